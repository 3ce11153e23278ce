import { access, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

// Which cgroup hierarchy this host lets Hive use for its cells, found once per process by trying
// it: cgroup v2 where its mount offers the controllers cells need (memory, cpu, pids), else the v1
// per-controller hierarchies, else none (not root, no delegation, no cgroupfs) and cells run as
// they always did, without limits.

/** Where every cell's cgroup lives, under each hierarchy: <hierarchy>/hive/<cell id>. */
export const HIVE_CGROUP = 'hive';

/** The v1 controllers a cell's cgroup is made in; freezer is optional (suspend only). */
export const V1_CONTROLLERS = ['memory', 'cpu', 'pids', 'freezer'] as const;
export type V1Controller = (typeof V1_CONTROLLERS)[number];
const V1_REQUIRED: readonly V1Controller[] = ['memory', 'cpu', 'pids'];
const V2_REQUIRED = ['memory', 'cpu', 'pids'];

export type CgroupSupport =
  | { kind: 'v2'; root: string }
  | { kind: 'v1'; roots: Partial<Record<V1Controller, string>> }
  | { kind: 'none'; reason: string };

const exists = (p: string) =>
  access(p).then(
    () => true,
    () => false,
  );
const words = async (file: string) =>
  (await readFile(file, 'utf8').catch(() => '')).split(/\s+/).filter(Boolean);

/** v2: a mount whose controllers include memory, cpu and pids, enabled for hive/ (tried, not assumed). */
async function tryV2(mount: string): Promise<CgroupSupport | string> {
  if (!(await exists(path.join(mount, 'cgroup.controllers')))) return `${mount} is not a cgroup v2 mount`;
  const offered = await words(path.join(mount, 'cgroup.controllers'));
  const missing = V2_REQUIRED.filter((c) => !offered.includes(c));
  if (missing.length > 0) return `cgroup v2 at ${mount} offers no ${missing.join(', ')} controller`;
  try {
    const hive = path.join(mount, HIVE_CGROUP);
    const enable = V2_REQUIRED.map((c) => `+${c}`).join(' ');
    await writeFile(path.join(mount, 'cgroup.subtree_control'), enable);
    await mkdir(hive, { recursive: true });
    await writeFile(path.join(hive, 'cgroup.subtree_control'), enable);
    return { kind: 'v2', root: hive };
  } catch (error) {
    return `cgroup v2 at ${mount}: ${(error as Error).message}`;
  }
}

/** v1: memory, cpu and pids hierarchies where Hive can make its hive/ folder. */
async function tryV1(base: string): Promise<CgroupSupport | string> {
  const roots: Partial<Record<V1Controller, string>> = {};
  for (const controller of V1_CONTROLLERS) {
    const hive = path.join(base, controller, HIVE_CGROUP);
    if (!(await exists(path.join(base, controller, 'cgroup.procs')))) continue;
    try {
      await mkdir(hive, { recursive: true });
      roots[controller] = hive;
    } catch {
      // Not ours to use (not root, read-only): checked below.
    }
  }
  const missing = V1_REQUIRED.filter((c) => !roots[c]);
  if (missing.length > 0) return `cgroup v1 ${missing.join(', ')} under ${base} not usable`;
  return { kind: 'v1', roots };
}

/** Tries v2 (the unified mount, or /sys/fs/cgroup itself), then v1; the reasons when neither works. */
export async function detectCgroups(base = '/sys/fs/cgroup'): Promise<CgroupSupport> {
  const reasons: string[] = [];
  for (const attempt of [() => tryV2(base), () => tryV2(path.join(base, 'unified')), () => tryV1(base)]) {
    const result = await attempt();
    if (typeof result !== 'string') return result;
    reasons.push(result);
  }
  return { kind: 'none', reason: reasons.join('; ') };
}

let detected: Promise<CgroupSupport> | undefined;

/** This process's answer, found once. */
export function cgroupSupport(): Promise<CgroupSupport> {
  detected ??= detectCgroups();
  return detected;
}
