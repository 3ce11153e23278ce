import { randomBytes } from 'node:crypto';
import { readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { DEFAULT_DEPS_CACHE_MAX_AGE_DAYS, DEFAULT_DEPS_CACHE_MAX_MB } from '../config/env.js';

// A workspace's dependency cache on disk: where it is, what it holds, and pruning. Read by the API
// (to show it) and by the environment step (which fills it, see src/activities/dependencies.ts).

/** The cache of a workspace: `<workspace>/.cells/.cache/deps/<key>/{files/,meta.json}`. */
export const dependencyCacheDir = (workspacePath: string) =>
  path.join(workspacePath, '.cells', '.cache', 'deps');

/** What the cache records of an entry, next to its files (meta.json). */
export const CacheEntryMeta = z.object({
  key: z.string().describe('Hash of the install command, paths, key files and platform'),
  paths: z.array(z.string()),
  install: z.string(),
  keyFiles: z.array(z.string()),
  sizeBytes: z.number().int(),
  createdAt: z.string(),
  createdBy: z.string().describe('The cell whose install filled it'),
});
export type CacheEntryMeta = z.infer<typeof CacheEntryMeta>;

export const CacheEntry = CacheEntryMeta.extend({
  lastUsedAt: z.string().describe('When a cell last copied from it (pruning goes by this)'),
});
export type CacheEntry = z.infer<typeof CacheEntry>;

const parseJson = (text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
};

/** The entries of a workspace's cache, most recently used first. */
export async function listDependencyCache(workspacePath: string): Promise<CacheEntry[]> {
  const cache = dependencyCacheDir(workspacePath);
  const names = await readdir(cache).catch(() => [] as string[]);
  const entries: CacheEntry[] = [];
  for (const name of names.filter((n) => !n.startsWith('.'))) {
    const meta = await readFile(path.join(cache, name, 'meta.json'), 'utf8').catch(() => undefined);
    const info = await stat(path.join(cache, name)).catch(() => undefined);
    if (!meta || !info) continue;
    // A meta.json that does not parse is not an entry (pruning removes what it cannot read as one).
    const parsed = CacheEntryMeta.safeParse(parseJson(meta));
    if (parsed.success) entries.push({ ...parsed.data, lastUsedAt: info.mtime.toISOString() });
  }
  return entries.sort((a, b) => b.lastUsedAt.localeCompare(a.lastUsedAt));
}

export interface PruneLimits {
  maxAgeMs: number;
  maxBytes: number;
}

/** The defaults of HIVE_DEPS_CACHE_MAX_AGE_DAYS and HIVE_DEPS_CACHE_MAX_MB. */
export const DEFAULT_PRUNE_LIMITS: PruneLimits = {
  maxAgeMs: DEFAULT_DEPS_CACHE_MAX_AGE_DAYS * 24 * 60 * 60_000,
  maxBytes: DEFAULT_DEPS_CACHE_MAX_MB * 1024 * 1024,
};

/**
 * Removes one entry: renamed away first, so a cell never copies from a half-removed entry (its copy
 * fails whole, and its retry installs). False when there was no such entry.
 */
export async function removeCacheEntry(workspacePath: string, key: string): Promise<boolean> {
  const cache = dependencyCacheDir(workspacePath);
  const trash = path.join(cache, `.trash-${key}-${randomBytes(4).toString('hex')}`);
  const moved = await rename(path.join(cache, key), trash).then(
    () => true,
    () => false,
  );
  if (moved) await rm(trash, { recursive: true, force: true });
  return moved;
}

/** A staging folder older than this belongs to a copy that will never finish. */
const STALE_STAGING_MS = 60 * 60_000;

/**
 * Removes entries unused for longer than `maxAgeMs`, then the least recently used until the cache
 * fits `maxBytes`, and staging folders of copies that died. Returns the keys it removed.
 */
export async function pruneDependencyCache(workspacePath: string, limits: PruneLimits): Promise<string[]> {
  const cache = dependencyCacheDir(workspacePath);
  const now = Date.now();
  for (const name of await readdir(cache).catch(() => [] as string[])) {
    if (!name.startsWith('.staging-') && !name.startsWith('.trash-')) continue;
    const info = await stat(path.join(cache, name)).catch(() => undefined);
    if (info && (name.startsWith('.trash-') || now - info.mtimeMs > STALE_STAGING_MS)) {
      await rm(path.join(cache, name), { recursive: true, force: true });
    }
  }
  const removed: string[] = [];
  let total = 0;
  for (const entry of await listDependencyCache(workspacePath)) {
    const tooOld = now - Date.parse(entry.lastUsedAt) > limits.maxAgeMs;
    if (!tooOld && total + entry.sizeBytes <= limits.maxBytes) {
      total += entry.sizeBytes;
      continue;
    }
    if (await removeCacheEntry(workspacePath, entry.key)) removed.push(entry.key);
  }
  return removed;
}
