import path from 'node:path';
import { git } from '../activities/git.js';

// The dry run's reading of the base commit: a cell's worktree is checked out from it, so what a
// template needs there (a service's folder, a package.json script) must be in that commit, not
// only in the workspace's working copy. Read-only: `git cat-file`, nothing checked out.

/**
 * A path from a config, relative to the worktree, normalized (posix, no leading "./"; "" is the
 * root). Undefined when it leaves the worktree (checkServiceDirs reports that) or cannot be a path.
 */
export function worktreePath(relative: string): string | undefined {
  if (relative.includes('\n') || path.posix.isAbsolute(relative)) return undefined;
  const normal = path.posix.normalize(relative).replace(/\/+$/, '');
  if (normal === '..' || normal.startsWith('../')) return undefined;
  return normal === '.' ? '' : normal;
}

export interface BaseCommit {
  commit: string;
  /** "main (1a2b3c4)": how findings name the commit. */
  label: string;
  /** The object type (tree, blob) at each path of the commit; absent paths are left out. */
  types(paths: string[]): Promise<Map<string, string>>;
  /** A file's text at the commit; undefined when it is not there. */
  read(file: string): Promise<string | undefined>;
}

/** Paths are relative to the workspace (`<commit>:./<path>`), which may be below the repository root. */
export function baseCommit(repo: string, ref: string, commit: string): BaseCommit {
  const spec = (p: string) => `${commit}:./${p}`;
  const reads = new Map<string, Promise<string | undefined>>();
  return {
    commit,
    label: `${ref} (${commit.slice(0, 7)})`,
    async types(paths) {
      const unique = [...new Set(paths)];
      const found = new Map<string, string>();
      if (unique.length === 0) return found;
      // One git process for every path: `<oid> <type> <size>` per line, or `<spec> missing`.
      const out = await git(repo, ['cat-file', '--batch-check'], {
        input: `${unique.map(spec).join('\n')}\n`,
      });
      out.split('\n').forEach((line, i) => {
        const [, type] = line.split(' ');
        const asked = unique[i];
        if (asked !== undefined && type && !line.endsWith(' missing')) found.set(asked, type);
      });
      return found;
    },
    read(file) {
      if (!reads.has(file)) {
        reads.set(
          file,
          git(repo, ['cat-file', 'blob', spec(file)]).catch(() => undefined),
        );
      }
      return reads.get(file) as Promise<string | undefined>;
    },
  };
}
