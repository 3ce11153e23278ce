// One corpus repository through a cell's life as a user sees it: request a cell of init's template,
// follow it until it rests (ready or a named failure, or the runner's time-box), GET each service's
// URL, archive it with discard (or roll back a failed one) and look for anything left behind.
import { cp, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { CellDetail, HiveClient } from '../../src/client/index.js';
import { HiveApiError } from '../../src/client/index.js';
import { residue } from './residue.js';

export interface Failure {
  /** Where it failed: the runner's stage (init, create, ready, http, archive, residue) / Hive's step. */
  step: string;
  type: string;
  firstLine: string;
  /** Hive named it (a failure in GET /cells/:id, a refusal) or the runner's time-box ran out. */
  namedBy: 'hive' | 'runner';
  /** How long the failed step ran before Hive named it, when Hive did. */
  stepSeconds?: number;
  /** Hive's hint and the last line of the log it attached, for the diagnosis. */
  hint?: string;
  logLine?: string;
}

export interface Probe {
  service: string;
  url: string;
  status?: number;
  error?: string;
}

export interface CellOutcome {
  cellId?: string;
  readySeconds?: number;
  failure?: Failure;
  probes: Probe[];
  residue: string[];
}

/** Any HTTP status below 500 means the service answers (a 404 at / is a working API). */
export const ANSWERS = (status: number) => status < 500;

const firstLine = (text: string) =>
  text
    .split('\n')
    .map((l) => l.trim())
    .find(Boolean) ?? '';

/** The log line that says what went wrong: the last one naming an error, else the last one. */
const errorLine = (log: string) => {
  const lines = log
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  return [...lines].reverse().find((l) => /err|fatal|cannot|not found/i.test(l)) ?? lines.at(-1);
};

const seconds = (ms: number) => Math.round(ms / 100) / 10;

/** GET a service until it answers below 500 (a dev server may compile on its first request). */
async function probe(service: string, url: string, budgetMs: number): Promise<Probe> {
  const until = Date.now() + budgetMs;
  let last: Probe = { service, url };
  for (;;) {
    try {
      const res = await fetch(url, {
        redirect: 'manual',
        signal: AbortSignal.timeout(Math.max(1000, until - Date.now())),
      });
      await res.body?.cancel();
      last = { service, url, status: res.status };
      if (ANSWERS(res.status)) return last;
    } catch (err) {
      last = { service, url, error: (err as Error).cause ? String((err as Error).cause) : String(err) };
    }
    if (Date.now() > until) return last;
    await new Promise((r) => setTimeout(r, 2000));
  }
}

/** Waits for the cell to rest, within `ms`; undefined when the time-box ran out. */
async function waitRest(hive: HiveClient, id: string, ms: number, done?: (c: CellDetail) => boolean) {
  try {
    return await hive.waitForCell(id, { signal: AbortSignal.timeout(ms), done });
  } catch (err) {
    if ((err as Error).name === 'TimeoutError' || (err as Error).name === 'AbortError') return undefined;
    throw err;
  }
}

function failedStepSeconds(cell: CellDetail, step: string): number | undefined {
  // A service's failure names `services`; its sub-step (services.<name>.ready) is the one that failed.
  const s = [...cell.steps]
    .reverse()
    .find(
      (x) =>
        x.kind === 'forward' && x.status === 'failed' && (x.name === step || x.name.startsWith(`${step}.`)),
    );
  if (!s?.endedAt) return undefined;
  return seconds(Date.parse(s.endedAt) - Date.parse(s.startedAt));
}

export async function runCell(
  hive: HiveClient,
  workspace: { id: string; path: string },
  opts: { readyTimeoutMs: number; probeMs: number; logsDir: string },
): Promise<CellOutcome> {
  const outcome: CellOutcome = { probes: [], residue: [] };
  const started = Date.now();
  let id: string;
  try {
    // init's template is `default`; a repository with its own config (Hive's) names its own.
    const templates = await hive.listTemplates(workspace.id);
    const template = templates.some((t) => t.id === 'default') ? 'default' : (templates[0]?.id ?? 'default');
    ({ id } = await hive.createCell({ workspace: workspace.id, template, brief: 'corpus check' }));
  } catch (err) {
    if (!(err instanceof HiveApiError)) throw err;
    const finding = err.findings.find((f) => f.severity === 'error');
    outcome.failure = {
      step: 'create',
      type: `refused ${err.status}`,
      firstLine: finding ? `${finding.path}: ${finding.message}` : firstLine(err.message),
      namedBy: 'hive',
    };
    return outcome;
  }
  outcome.cellId = id;

  let cell = await waitRest(hive, id, opts.readyTimeoutMs);
  if (!cell) {
    const now = await hive.getCell(id);
    outcome.failure = {
      step: `ready (${now.progress.currentStep ?? now.status})`,
      type: 'timeout',
      firstLine: `not ready after ${opts.readyTimeoutMs / 1000} s: ${now.progress.operation ?? now.status}`,
      namedBy: 'runner',
    };
    if (now.worktreePath) {
      await cp(path.join(now.worktreePath, '.hive', 'logs'), opts.logsDir, { recursive: true }).catch(
        () => undefined,
      );
    }
    await hive.cancel(id).catch(() => undefined);
    cell = (await waitRest(hive, id, 120_000)) ?? (await hive.getCell(id));
    outcome.residue = await residue(now, workspace.path);
    return outcome;
  }
  const live = cell;

  if (cell.status === 'ready') {
    outcome.readySeconds = seconds(Date.now() - started);
    for (const s of cell.services) {
      const url = s.url ?? (s.port ? `http://127.0.0.1:${s.port}/` : undefined);
      if (url) outcome.probes.push(await probe(s.name, url, opts.probeMs));
    }
    const silent = outcome.probes.find((p) => !(p.status !== undefined && ANSWERS(p.status)));
    if (!outcome.probes.length) {
      // Every corpus repository is a server: a ready cell that runs none is not what a user asked.
      outcome.failure = {
        step: 'http',
        type: 'no service',
        firstLine: 'the template init wrote starts no service with a port (a worktree-only cell)',
        namedBy: 'runner',
      };
    } else if (silent) {
      outcome.failure = {
        step: `http ${silent.service}`,
        type: silent.status ? `HTTP ${silent.status}` : 'no answer',
        firstLine: `GET ${silent.url} → ${silent.status ?? firstLine(silent.error ?? '')}`,
        namedBy: 'runner',
      };
    }
  } else if (cell.failure) {
    outcome.failure = {
      step: cell.failure.step,
      type: cell.failure.type,
      firstLine: firstLine(cell.failure.message),
      namedBy: 'hive',
      stepSeconds: failedStepSeconds(cell, cell.failure.step),
      hint: cell.failure.hint,
      logLine: errorLine(cell.failure.logTail ?? ''),
    };
  } else {
    outcome.failure = {
      step: 'ready',
      type: cell.status,
      firstLine: `rests ${cell.status}`,
      namedBy: 'hive',
    };
  }

  // The worktree (and its .hive/logs) goes with the cell: keep the cell and logs for the diagnosis.
  await mkdir(opts.logsDir, { recursive: true });
  await writeFile(path.join(opts.logsDir, 'cell.json'), JSON.stringify(live, null, 2));
  if (outcome.failure && live.worktreePath) {
    await cp(path.join(live.worktreePath, '.hive', 'logs'), opts.logsDir, { recursive: true }).catch(
      () => undefined,
    );
  }

  // Take it away: archive with discard when it lives, roll back a failed (preserved) one.
  const lives = cell.status === 'ready' || cell.status === 'degraded';
  try {
    if (lives) await hive.archive(id, { discard: true });
    else if (cell.status === 'failed') await hive.cancel(id);
  } catch (err) {
    outcome.residue.push(`archive refused: ${firstLine((err as Error).message)}`);
  }
  const end = await waitRest(hive, id, 120_000, (c) => !['ready', 'degraded', 'failed'].includes(c.status));
  if (!end) outcome.residue.push('archive did not finish within 120 s');
  else if (!['archived', 'rolled_back', 'cancelled'].includes(end.status)) {
    outcome.residue.push(`ends ${end.status}: ${firstLine(end.failure?.message ?? '')}`);
  }
  outcome.residue.push(...(await residue(live, workspace.path)));
  if (!outcome.failure && outcome.residue.length) {
    outcome.failure = {
      step: 'archive',
      type: 'residue',
      firstLine: outcome.residue[0] ?? '',
      namedBy: 'runner',
    };
  }
  return outcome;
}
