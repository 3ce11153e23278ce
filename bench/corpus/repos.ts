// The corpus list (repos.json) and turning one entry into a fresh git repository: a snapshot of a
// fetched mirror at its pinned commit (or of a local working tree), committed as one commit, so a
// cell's worktree starts from exactly what a user would have cloned.
import { lstat, mkdir, readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { CONFIG_FILE_NAMES } from '../../src/templates/loader.js';

export interface CorpusRepo {
  id: string;
  /** owner/name on GitHub, fetched into the mirrors directory as owner+name/repo. */
  repo?: string;
  commit?: string;
  /** One app of a starter-templates repository: it becomes the root of the corpus repository. */
  subdir?: string;
  /** A path on this machine (relative to the project root): its tracked and untracked files. */
  local?: string;
  kind: string;
  why: string;
  /** Why it cannot pass on this machine whatever Hive does (measured), when that is so. */
  blocked?: string;
}

export const projectRoot = path.resolve(import.meta.dirname, '../..');
export const mirrorsDir = path.resolve(process.env.HIVE_CORPUS_MIRRORS ?? '/work/.mirror');

export async function loadCorpus(): Promise<CorpusRepo[]> {
  const raw = JSON.parse(await readFile(path.join(import.meta.dirname, 'repos.json'), 'utf8'));
  return raw.repos as CorpusRepo[];
}

/** The git directory of a fetched mirror, as the fetch tool lays it out. */
export const mirrorGitDir = (repo: string) => path.join(mirrorsDir, repo.replace('/', '+'), 'repo');

/** Why an entry cannot be materialized here (mirror not fetched, commit absent), or undefined. */
export async function missing(entry: CorpusRepo): Promise<string | undefined> {
  if (entry.local) return undefined;
  if (!entry.repo || !entry.commit) return `${entry.id}: repos.json needs repo and commit (or local)`;
  const gitDir = mirrorGitDir(entry.repo);
  if (!(await stat(gitDir).catch(() => undefined)))
    return `${entry.id}: no mirror at ${gitDir}; fetch github:${entry.repo} first`;
  const has = await execa('git', ['--git-dir', gitDir, 'cat-file', '-e', `${entry.commit}^{commit}`], {
    reject: false,
  });
  if (has.exitCode !== 0)
    return `${entry.id}: ${gitDir} lacks commit ${entry.commit}; fetch github:${entry.repo} again or update repos.json`;
  return undefined;
}

const git = (cwd: string, args: string[]) =>
  execa('git', ['-c', 'user.name=hive-corpus', '-c', 'user.email=corpus@hive.invalid', ...args], { cwd });

/**
 * A fresh repository at `dir` holding the entry's files as one commit on `main`. What an earlier run
 * left there (its repository, `hive init`'s commit, cells, installs) goes first: every run starts
 * from what a new user has.
 */
export async function materialize(entry: CorpusRepo, dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  let archive: Uint8Array;
  if (entry.local) {
    // The working tree as it is (others' uncommitted work included), without what git ignores.
    const source = path.resolve(projectRoot, entry.local);
    const list = async (which: string) =>
      (await execa('git', ['ls-files', which, '--exclude-standard', '-z'], { cwd: source })).stdout
        .split('\0')
        .filter(Boolean);
    // Deleted-but-tracked files are listed by ls-files; tar would fail on them. An untracked
    // symlink (a `node_modules` linked in from another checkout: `node_modules/` ignores folders
    // only) is left out: an install in the cell would empty the folder it points to.
    const present: string[] = [];
    for (const f of await list('-c'))
      if (await stat(path.join(source, f)).catch(() => undefined)) present.push(f);
    for (const f of await list('-o'))
      if ((await lstat(path.join(source, f)).catch(() => undefined))?.isFile()) present.push(f);
    archive = (
      await execa('tar', ['-c', '--null', '-T', '-'], {
        cwd: source,
        input: present.join('\0'),
        encoding: 'buffer',
        maxBuffer: 1e9,
      })
    ).stdout;
  } else {
    const treeish = entry.subdir ? `${entry.commit}:${entry.subdir}` : String(entry.commit);
    archive = (
      await execa(
        'git',
        ['--git-dir', mirrorGitDir(String(entry.repo)), 'archive', '--format=tar', treeish],
        {
          encoding: 'buffer',
          maxBuffer: 1e9,
        },
      )
    ).stdout;
  }
  await execa('tar', ['-x', '-C', dir], { input: archive });
  await git(dir, ['init', '-q', '-b', 'main']);
  await git(dir, ['add', '-A']);
  await git(dir, ['commit', '-q', '--no-verify', '-m', `corpus snapshot of ${entry.repo ?? entry.local}`]);
}

/** Commits what `hive init` wrote, as a user would before asking for cells. */
export async function commitConfig(dir: string): Promise<void> {
  await git(dir, ['add', '-A']);
  const staged = await execa('git', ['diff', '--cached', '--quiet'], { cwd: dir, reject: false });
  if (staged.exitCode !== 0) await git(dir, ['commit', '-q', '--no-verify', '-m', 'hive init']);
}

/** The config file the repository already has (Hive's own), if any. */
export async function existingConfig(dir: string): Promise<string | undefined> {
  for (const name of CONFIG_FILE_NAMES) {
    if (await stat(path.join(dir, name)).catch(() => undefined)) return name;
  }
  return undefined;
}
