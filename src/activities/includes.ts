// Gitignored files of the workspace copied into a cell (`.env`, a local config): those the template's
// includePatterns name, and those the workspace's `.worktreeinclude` lists — Claude Code's file, also
// read by Conductor and Codex: .gitignore syntax at the repository root, and a file is copied only
// when it matches AND git ignores it, so a tracked file is never duplicated.
//
// Copied when the worktree is made, and again on every retry (the re-plan), because a person fixing
// a failed cell adds the missing file to the workspace and expects the retry to see it. A copy never
// overwrites what the cell made its own: `.hive/includes.json` notes each copy (the workspace file's
// and the cell's size and mtime), and a file is written again only when it is missing in the cell,
// or when the cell's copy is still exactly what Hive wrote and the workspace's has changed since.
// Anything else (an agent's edit, a person's fix made in the cell) is kept, and said so.
import { constants } from 'node:fs';
import {
  copyFile,
  lstat,
  mkdir,
  readFile,
  readlink,
  realpath,
  rm,
  symlink,
  writeFile,
} from 'node:fs/promises';
import path from 'node:path';
import picomatch from 'picomatch';
import type { CellPlan } from '../cells/plan.js';
import { isInside } from '../templates/paths.js';
import { git } from './git.js';

/** Claude Code's file of gitignored files to carry into new worktrees, at the repository root. */
export const WORKTREE_INCLUDE_FILE = '.worktreeinclude';

/** Hive's own folders (the worktree's metadata; the workspace's cells): never included. */
const OWN_FOLDERS = ['.cells/', '.hive/'];
const MANIFEST = path.join('.hive', 'includes.json');

export interface IncludeOutcome {
  /** Written this time (new in the cell, or updated from the workspace). */
  copied: string[];
  /** Left as the cell has them: changed in the cell since Hive copied them, or never Hive's copy. */
  kept: string[];
}

const nulList = (out: string) =>
  out.split('\0').filter((f) => f && !OWN_FOLDERS.some((folder) => f.startsWith(folder)));

/** What `.worktreeinclude` selects: untracked files its patterns match (git reads the patterns). */
async function worktreeIncludeMatches(workspace: string): Promise<Set<string>> {
  const file = path.join(workspace, WORKTREE_INCLUDE_FILE);
  const info = await lstat(file).catch(() => undefined);
  // A regular file only: a symlink could make git read patterns from anywhere.
  if (!info?.isFile()) return new Set();
  const out = await git(workspace, ['ls-files', '-z', '--others', '--ignored', `--exclude-from=${file}`]);
  return new Set(nulList(out));
}

/** The workspace's gitignored files the plan's patterns or `.worktreeinclude` select. */
export async function selectIncludedFiles(plan: CellPlan): Promise<string[]> {
  // Nothing asks for a file: no listing of the workspace's ignored files (in a big repository, a
  // walk of every folder, on every cell).
  const asked = await lstat(path.join(plan.workspacePath, WORKTREE_INCLUDE_FILE)).catch(() => undefined);
  if (plan.includePatterns.length === 0 && !asked) return [];
  const [ignored, listed] = await Promise.all([
    git(plan.workspacePath, ['ls-files', '-z', '--others', '--ignored', '--exclude-standard']).then(nulList),
    worktreeIncludeMatches(plan.workspacePath),
  ]);
  const include = plan.includePatterns.length ? picomatch(plan.includePatterns, { dot: true }) : () => false;
  const ignore = plan.ignorePatterns.length ? picomatch(plan.ignorePatterns, { dot: true }) : () => false;
  // A pattern without a slash matches the file's name anywhere, as .gitignore's would.
  const matches = (test: (p: string) => boolean, f: string) => test(f) || test(path.basename(f));
  return ignored.filter((f) => (listed.has(f) || matches(include, f)) && !matches(ignore, f));
}

/** A file's identity for "unchanged since": a link's target, or a file's size and mtime. */
async function stamp(file: string): Promise<string | undefined> {
  const info = await lstat(file).catch(() => undefined);
  if (!info) return undefined;
  if (info.isSymbolicLink()) return `link:${await readlink(file)}`;
  return info.isFile() ? `${info.size}:${info.mtimeMs}` : 'other';
}

/** Same contents (a copy interrupted before its note was written counts as Hive's). */
async function sameContents(a: string, b: string): Promise<boolean> {
  const [x, y] = await Promise.all([lstat(a), lstat(b)]);
  if (x.isSymbolicLink() || y.isSymbolicLink()) {
    return x.isSymbolicLink() && y.isSymbolicLink() && (await readlink(a)) === (await readlink(b));
  }
  if (!x.isFile() || !y.isFile() || x.size !== y.size) return false;
  return (await readFile(a)).equals(await readFile(b));
}

/**
 * Creates the folders of `relative` inside the worktree, refusing a path whose existing part leads
 * outside it through a symlink (a committed `config -> /etc` must not make `config/x` land in /etc).
 */
async function safeParent(worktree: string, relative: string): Promise<boolean> {
  const root = await realpath(worktree);
  let existing = path.dirname(path.join(worktree, relative));
  while (!(await lstat(existing).catch(() => undefined))) existing = path.dirname(existing);
  const real = await realpath(existing).catch(() => undefined);
  if (!real || !isInside(root, real)) return false;
  // A file standing where a folder must be: the cell's, kept.
  const made = await mkdir(path.dirname(path.join(worktree, relative)), { recursive: true }).then(
    () => true,
    () => false,
  );
  // Made by this call, inside: check the full parent once more (a race would show here).
  const parent = made && (await realpath(path.dirname(path.join(worktree, relative))));
  return parent !== false && isInside(root, parent);
}

interface Note {
  source: string;
  copy: string;
}

/**
 * Copies the selected files into the cell (copy-on-write where the file system can), under the rule
 * above. Idempotent: a second run copies nothing new and keeps nothing it copied.
 */
export async function copyIncludedFiles(plan: CellPlan): Promise<IncludeOutcome> {
  const files = await selectIncludedFiles(plan);
  const manifestFile = path.join(plan.worktreePath, MANIFEST);
  const notes: Record<string, Note> = JSON.parse(await readFile(manifestFile, 'utf8').catch(() => '{}'));
  const outcome: IncludeOutcome = { copied: [], kept: [] };
  for (const file of files) {
    const source = path.join(plan.workspacePath, file);
    const target = path.join(plan.worktreePath, file);
    const [sourceStamp, targetStamp] = await Promise.all([stamp(source), stamp(target)]);
    if (sourceStamp === undefined) continue; // gone since git listed it
    const note = notes[file];
    if (targetStamp !== undefined) {
      const ours = note ? note.copy === targetStamp : await sameContents(source, target);
      if (!ours) {
        outcome.kept.push(file);
        continue;
      }
      if (!note || note.source === sourceStamp) {
        // Hive's copy, and the workspace's file as it was: nothing to do but remember it.
        if (!note) notes[file] = { source: sourceStamp, copy: targetStamp };
        continue;
      }
    }
    if (!(await safeParent(plan.worktreePath, file))) {
      outcome.kept.push(file);
      continue;
    }
    // Removed first, so a symlink standing where the copy goes is replaced, never followed.
    await rm(target, { force: true });
    if ((await lstat(source)).isSymbolicLink()) {
      // A symlink is copied as the link it is, never as its target's contents (which may lie
      // outside the workspace).
      await symlink(await readlink(source), target);
    } else {
      // FICLONE: a reflink on file systems that support it, a plain copy elsewhere.
      await copyFile(source, target, constants.COPYFILE_FICLONE);
    }
    notes[file] = { source: sourceStamp, copy: (await stamp(target)) ?? '' };
    outcome.copied.push(file);
  }
  await mkdir(path.dirname(manifestFile), { recursive: true });
  await writeFile(manifestFile, `${JSON.stringify(notes, null, 2)}\n`);
  return outcome;
}
