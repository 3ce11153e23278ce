import { mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { toolsBinDir } from '../config/paths.js';

export interface GoInstall {
  /** What the log calls it: "Temporal CLI v1.5.1". */
  label: string;
  /** `module/path/cmd/x@vX.Y.Z`, built together in one `go install` (they share their compile). */
  packages: string[];
  ldflags?: string;
  tags?: string;
  /** The binary `go install` writes (the package's last path element) → its name in the tools folder. */
  binaries: Record<string, string>;
}

/**
 * Builds pinned Go binaries from the Go module proxy into the tools folder. It builds into a private
 * folder and renames, so a concurrent or interrupted build never leaves a half-written binary; Go's
 * own build cache makes a second build of the same versions take seconds.
 */
export async function goInstall(
  go: string,
  what: GoInstall,
  log: (line: string) => void,
): Promise<Record<string, string>> {
  await mkdir(toolsBinDir, { recursive: true });
  const staging = await mkdtemp(path.join(toolsBinDir, '.build-'));
  log(`Building ${what.label} with ${go} (first time only; a few minutes)…`);
  const started = Date.now();
  try {
    await execa(
      go,
      [
        'install',
        ...(what.tags ? ['-tags', what.tags] : []),
        ...(what.ldflags ? ['-ldflags', what.ldflags] : []),
        ...what.packages,
      ],
      { env: { CGO_ENABLED: '0', GOBIN: staging }, stdio: ['ignore', 'inherit', 'inherit'] },
    );
    const built: Record<string, string> = {};
    for (const [from, to] of Object.entries(what.binaries)) {
      built[to] = path.join(toolsBinDir, to);
      await rename(path.join(staging, from), built[to]);
    }
    log(
      `Built ${what.label} in ${Math.round((Date.now() - started) / 1000)} s: ${Object.values(built).join(', ')}`,
    );
    return built;
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}
