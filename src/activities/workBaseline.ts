// What in a worktree is a person's work: everything that differs from HEAD (listed with a
// fingerprint of each file, ignored folders collapsed, Hive's own folders left out), less what the
// template's setup made, which the baseline (.hive/baseline.json) records at each handover.
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { lstat, readFile, readlink } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { writeCellFile } from '../cells/containedFiles.js';
import type { CellPlan } from '../cells/plan.js';
import type { WorkFiles } from '../cells/schema.js';
import { overlayChangedPaths } from '../worktree/changedPaths.js';
import { git } from './git.js';

/** Hive's own folders inside a worktree: never a person's work (the env file may hold secrets). */
const HIVE_FOLDERS = ['.hive', '.cells'];
const BASELINE_FILE = path.join('.hive', 'baseline.json');

type WorkKind = Exclude<keyof WorkFiles, 'staged'>;
export interface WorkEntry {
  path: string;
  kind: WorkKind;
  /** Content hash (file), link target (symlink), `dir` (a collapsed ignored folder) or `deleted`. */
  fingerprint: string;
}

async function fingerprint(file: string): Promise<string> {
  const info = await lstat(file).catch(() => undefined);
  if (!info) return 'deleted';
  if (info.isSymbolicLink()) return `link:${await readlink(file)}`;
  if (info.isDirectory()) return 'dir';
  const hash = createHash('sha256');
  await pipeline(createReadStream(file), hash);
  return `${(info.mode & 0o111) !== 0 ? 'x' : 'f'}:${hash.digest('hex')}`;
}

const isHiveOwn = (p: string) => HIVE_FOLDERS.some((folder) => p === folder || p.startsWith(`${folder}/`));

export const nulList = (out: string) =>
  out
    .split('\0')
    .filter(Boolean)
    .filter((p) => !isHiveOwn(p));

/** A mode of `000000` in `git status`: the path is not there (in HEAD, or in the worktree). */
const ABSENT = /^0+$/;

/**
 * One record of `git status --porcelain=v2 -z` as work: its path and kind, or undefined when it is
 * no change of the worktree against HEAD. A tracked record (`1`, or `u` while merging) is work unless
 * the path is in neither HEAD nor the worktree (added to the index, then its file deleted: the
 * index's content is kept apart, as staged work). Fields before the path are space-separated; the
 * path is the rest, spaces and all.
 */
function workOf(record: string): { path: string; kind: WorkKind } | undefined {
  const fields = record.split(' ');
  const rest = (from: number) => fields.slice(from).join(' ');
  switch (record[0]) {
    case '?':
      return { path: rest(1), kind: 'untracked' };
    case '!':
      return { path: rest(1), kind: 'ignored' };
    case '1': // 1 XY sub mH mI mW hH hI path
      if (ABSENT.test(fields[3] ?? '') && ABSENT.test(fields[5] ?? '')) return undefined;
      return { path: rest(8), kind: 'modified' };
    case 'u': // u XY sub m1 m2 m3 mW h1 h2 h3 path (m2: ours, HEAD's)
      if (ABSENT.test(fields[4] ?? '') && ABSENT.test(fields[6] ?? '')) return undefined;
      return { path: rest(10), kind: 'modified' };
    default:
      return undefined;
  }
}

/**
 * Everything in the worktree that differs from HEAD, with a fingerprint of each: in one `git status`
 * (a process costs 10–20 ms on a loaded host; three ran here before). Every untracked file is listed
 * (`-uall`); an ignored folder a pattern names is one entry (`--ignored=matching`: node_modules/ is
 * one entry, not a hundred thousand), other ignored files one each. `--no-optional-locks`: listing
 * never writes the index an agent's git may be using.
 */
export async function listWork(worktree: string): Promise<WorkEntry[]> {
  // An overlay worktree says where it can differ (src/worktree/changedPaths.ts): git looks only there.
  const narrowed = await overlayChangedPaths(worktree);
  if (narrowed?.length === 0) return [];
  const only = narrowed ? ['--', ...narrowed] : [];
  const out = await git(worktree, [
    '--no-optional-locks',
    'status',
    '--porcelain=v2',
    '-z',
    '--no-renames',
    '--untracked-files=all',
    '--ignored=matching',
    ...only,
  ]);
  const entries: WorkEntry[] = [];
  for (const record of out.split('\0')) {
    const work = workOf(record);
    if (!work || isHiveOwn(work.path)) continue;
    const print = await fingerprint(path.join(worktree, work.path));
    entries.push({ path: work.path, kind: print === 'deleted' ? 'deleted' : work.kind, fingerprint: print });
  }
  return entries;
}

/**
 * What was in the worktree when it was last handed to a person (`entries`: the template's setup and
 * services made them), and `personal`: paths that are a person's work whatever happens next (what a
 * person changed before a retry, what a restore put back).
 */
export interface Baseline {
  entries: Record<string, string>;
  personal: string[];
}

export async function readBaseline(worktree: string): Promise<Baseline | undefined> {
  // A small file, read on the way to a cell's handover: synchronously (no thread-pool round trip).
  let text: string;
  try {
    text = readFileSync(path.join(worktree, BASELINE_FILE), 'utf8');
  } catch {
    return undefined;
  }
  return JSON.parse(text) as Baseline;
}

export const writeBaseline = (worktree: string, baseline: Baseline) =>
  writeCellFile(path.join(worktree, BASELINE_FILE), `${JSON.stringify(baseline)}\n`);

/** A path, or a collapsed folder holding one, among `paths`. */
const covers = (paths: string[], entry: string) =>
  paths.some((p) => p === entry || (entry.endsWith('/') && p.startsWith(entry)));

export const isWorktree = async (dir: string) => existsSync(path.join(dir, '.git'));

/** In `.hive/cell.json`: the worktree was made by a version that records handovers (see saveWork). */
export const HANDOVER_MARKER = { workSince: 'handover' } as const;

export async function recordsHandovers(worktree: string): Promise<boolean> {
  const text = await readFile(path.join(worktree, '.hive', 'cell.json'), 'utf8').catch(() => '{}');
  return (JSON.parse(text) as { workSince?: string }).workSince === HANDOVER_MARKER.workSince;
}

/**
 * `handover` (the cell is ready, or failed and preserved): everything in the worktree now, but
 * what is already a person's, is the template's doing — archive keeps only what comes after.
 * `retry` (a person asked to go on): what changed since the handover is theirs, and stays theirs
 * whatever the next attempt's setup does.
 */
export async function recordBaseline(
  plan: CellPlan,
  moment: 'handover' | 'retry',
): Promise<{ entries: number; personal: number }> {
  if (!(await isWorktree(plan.worktreePath))) return { entries: 0, personal: 0 };
  const previous = (await readBaseline(plan.worktreePath)) ?? { entries: {}, personal: [] };
  const current = await listWork(plan.worktreePath);
  const baseline: Baseline =
    moment === 'retry'
      ? {
          entries: previous.entries,
          personal: [
            ...new Set([
              ...previous.personal,
              ...current.filter((e) => previous.entries[e.path] !== e.fingerprint).map((e) => e.path),
            ]),
          ],
        }
      : {
          entries: Object.fromEntries(
            current.filter((e) => !covers(previous.personal, e.path)).map((e) => [e.path, e.fingerprint]),
          ),
          personal: previous.personal,
        };
  await writeBaseline(plan.worktreePath, baseline);
  return { entries: Object.keys(baseline.entries).length, personal: baseline.personal.length };
}
