// Hive as a user runs it: `hive up` (API + worker + embedded Temporal dev server) in its own process,
// on free ports and a fresh data directory, with the corpus repositories as its workspaces; and
// `hive init` as a user runs it, in each repository.
import { createWriteStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa, type ResultPromise } from 'execa';
import getPort from 'get-port';
import { createHiveClient, type HiveClient } from '../../src/client/index.js';
import { projectRoot } from './repos.js';

const hiveBin = path.join(projectRoot, 'bin', 'hive.js');

export interface RunningHive {
  hive: HiveClient;
  url: string;
  logFile: string;
  stop(): Promise<void>;
}

export async function startHive(opts: {
  dataDir: string;
  workspaces: Array<{ id: string; path: string }>;
}): Promise<RunningHive> {
  const [port, temporalPort, uiPort] = [await getPort(), await getPort(), await getPort()];
  const logFile = path.join(opts.dataDir, 'hive-up.log');
  // pnpm switches to the version a package.json's packageManager names and refuses it when the
  // registry serves no signatures (this machine's mirror does not). Cells get XDG_* from Hive, so
  // a pnpm config of the corpus's own turns the switch off without touching the user's; the
  // installed pnpm runs instead. HIVE_CORPUS_PNPM_SWITCH=1 keeps the switch.
  const xdgConfig = path.join(opts.dataDir, 'xdg-config');
  if (process.env.HIVE_CORPUS_PNPM_SWITCH !== '1') {
    await mkdir(path.join(xdgConfig, 'pnpm'), { recursive: true });
    await writeFile(path.join(xdgConfig, 'pnpm', 'rc'), 'manage-package-manager-versions=false\n');
  }
  const log = createWriteStream(logFile);
  const child: ResultPromise = execa('node', [hiveBin, 'up'], {
    cwd: opts.dataDir,
    env: {
      HIVE_PORT: String(port),
      HIVE_TEMPORAL_PORT: String(temporalPort),
      HIVE_TEMPORAL_UI_PORT: String(uiPort),
      HIVE_DATA_DIR: path.join(opts.dataDir, 'data'),
      HIVE_WORKSPACES: opts.workspaces.map((w) => `${w.id}=${w.path}`).join(','),
      HIVE_LOG_LEVEL: 'warn',
      ...(process.env.HIVE_CORPUS_PNPM_SWITCH !== '1' && { XDG_CONFIG_HOME: xdgConfig }),
    },
    reject: false,
    all: true,
    // `hive up` ends its cells' processes itself; the runner ends `hive up` (its own child) only.
    cleanup: true,
  });
  child.all?.pipe(log);
  const url = `http://127.0.0.1:${port}`;
  const hive = createHiveClient({ url });
  const deadline = Date.now() + 180_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`hive up exited (${child.exitCode}); see ${logFile}`);
    try {
      const workspaces = await hive.listWorkspaces();
      if (workspaces.length >= opts.workspaces.length) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGTERM');
      throw new Error(`hive up did not answer within 180 s; see ${logFile}`);
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
  return {
    hive,
    url,
    logFile,
    async stop() {
      child.kill('SIGINT');
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await child;
      clearTimeout(timer);
      log.end();
    },
  };
}

export interface InitResult {
  ok: boolean;
  /** What init printed (found …, dry run findings). */
  output: string;
}

/** `hive init -C dir`: writes hive.config.ts and dry-runs it (exit 1 when the dry run fails). */
export async function hiveInit(dir: string): Promise<InitResult> {
  const r = await execa('node', [hiveBin, 'init', '-C', dir], {
    reject: false,
    all: true,
    env: { NO_COLOR: '1' },
    timeout: 120_000,
  });
  return { ok: r.exitCode === 0, output: r.all ?? '' };
}

/** The first problem init reports after its ✖: a dry-run "error …" finding, else a "- …" item. */
export function initProblem(output: string): string {
  const lines = output.split('\n').map((l) => l.trim());
  const after = lines.slice(
    Math.max(
      0,
      lines.findIndex((l) => l.startsWith('✖')),
    ),
  );
  const line =
    after.find((l) => l.startsWith('error ')) ?? after.find((l) => l.startsWith('- ')) ?? after[0] ?? '';
  return line.replace(/^- /, '');
}
