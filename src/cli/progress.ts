import spinners from 'cli-spinners';
import { createLogUpdate } from 'log-update';
import { isServiceStep, parseServiceStep, provisioningSteps, Step } from '../cells/catalog.js';
import type { CellDetail, CellEvent } from '../client/index.js';
import { colorsFor, duration } from './output.js';

// The live view of a cell being provisioned: on a terminal, one line per step with a spinner, its
// current operation and elapsed time, and a footer with the state and the ETA, redrawn in place;
// elsewhere (piped, logged), one plain line per event as it happens.

type StepStatus = 'pending' | 'running' | 'succeeded' | 'failed';

interface StepLine {
  name: string;
  label: string;
  status: StepStatus;
  indent: boolean;
  operation?: string | null;
  startedAt?: number;
  endedAt?: number;
}

const toStatus = (s: string): StepStatus =>
  s === 'succeeded' || s === 'failed' || s === 'running' ? s : s === 'completed' ? 'succeeded' : 'running';

/**
 * The step lines of a cell: the forward steps in order (not started yet: pending), each service's
 * sub-steps (`services.<name>.start|ready|completed`) under `services`, and compensations (a rollback)
 * after them.
 */
export function stepLines(cell: CellDetail | undefined): StepLine[] {
  const steps = cell?.steps ?? [];
  const time = (iso: string | null | undefined) => (iso ? Date.parse(iso) : undefined);
  const line = (s: (typeof steps)[number], label: string, indent: boolean): StepLine => ({
    name: s.name,
    label,
    status: toStatus(s.status),
    indent,
    operation: s.operation,
    startedAt: time(s.startedAt),
    endedAt: time(s.endedAt),
  });
  const forward = steps.filter((s) => s.kind === 'forward');
  const serviceSteps = forward.filter((s) => isServiceStep(s.name));
  const lines: StepLine[] = [];
  for (const name of provisioningSteps) {
    if (name === Step.services) {
      const later = forward.some((s) => s.name === Step.prompt) || cell?.status === 'ready';
      const status: StepStatus = serviceSteps.some((s) => s.status === 'failed')
        ? 'failed'
        : serviceSteps.some((s) => s.status === 'running') || (serviceSteps.length > 0 && !later)
          ? 'running'
          : later
            ? 'succeeded'
            : 'pending';
      const starts = serviceSteps.map((s) => time(s.startedAt) ?? 0);
      const ends = serviceSteps.map((s) => time(s.endedAt) ?? 0);
      lines.push({
        name,
        label: name,
        status,
        indent: false,
        startedAt: starts.length ? Math.min(...starts) : undefined,
        endedAt: status === 'succeeded' || status === 'failed' ? Math.max(0, ...ends) : undefined,
      });
      for (const s of serviceSteps) {
        const sub = parseServiceStep(s.name);
        lines.push(line(s, sub?.phase ? `${sub.service}.${sub.phase}` : s.name, true));
      }
      continue;
    }
    const recorded = forward.find((s) => s.name === name);
    lines.push(
      recorded ? line(recorded, name, false) : { name, label: name, status: 'pending', indent: false },
    );
  }
  for (const s of steps.filter((x) => x.kind === 'compensation'))
    lines.push(line(s, `undo ${s.name}`, false));
  return lines;
}

export interface ProgressView {
  /** An event of the cell's stream. */
  event(event: CellEvent): void;
  /** A fresh `GET /cells/:id`: steps with timings and operations, the ETA. */
  snapshot(cell: CellDetail): void;
  /** Stops redrawing (e.g. while a question is asked), keeping what is shown. */
  pause(): void;
  resume(): void;
  /** Draws the last state and stops. */
  stop(): void;
}

/** The view for `stream`: live on a TTY, plain lines otherwise (or on a terminal of no size). */
export function createProgressView(stream: NodeJS.WriteStream, cellId: string): ProgressView {
  return stream.isTTY && stream.rows > 0 ? liveView(stream, cellId) : plainView(stream, cellId);
}

function plainView(stream: NodeJS.WriteStream, cellId: string): ProgressView {
  const c = colorsFor(stream);
  const write = (line: string) => stream.write(`${line}\n`);
  write(`Following cell ${cellId}`);
  return {
    event(event) {
      switch (event.event) {
        case 'status':
          write(`status ${event.data.status}`);
          break;
        case 'step': {
          const { name, kind, status, error } = event.data;
          const what = kind === 'compensation' ? `undo ${name}` : name;
          write(
            status === 'failed'
              ? c.red(`step ${what} failed: ${error?.type ?? 'Error'}: ${error?.message ?? ''}`)
              : `step ${what} ${status}`,
          );
          break;
        }
        case 'operation':
          write(c.dim(`  ${event.data.step}: ${event.data.operation}`));
          break;
        default:
      }
    },
    snapshot() {},
    pause() {},
    resume() {},
    stop() {},
  };
}

function liveView(stream: NodeJS.WriteStream, cellId: string): ProgressView {
  const c = colorsFor(stream);
  const spinner = spinners.dots;
  const log = createLogUpdate(stream);
  const started = Date.now();
  let cell: CellDetail | undefined;
  let snapshotAt = Date.now();
  let status = 'pending';
  const operations = new Map<string, string>();
  let frame = 0;
  let timer: NodeJS.Timeout | undefined;

  const icon = (s: StepStatus) =>
    s === 'succeeded'
      ? c.green('✔')
      : s === 'failed'
        ? c.red('✖')
        : s === 'running'
          ? c.cyan(spinner.frames[frame % spinner.frames.length] ?? '*')
          : c.dim('○');

  function render() {
    const now = Date.now();
    const lines = [`Cell ${c.bold(cellId)}`];
    for (const s of stepLines(cell)) {
      const elapsed =
        s.startedAt !== undefined ? duration(Math.max(0, ((s.endedAt ?? now) - s.startedAt) / 1000)) : '';
      const op = s.status === 'running' ? (operations.get(s.name) ?? s.operation) : undefined;
      const label = `${s.indent ? '  ' : ''}${s.label}`.padEnd(24);
      lines.push(
        `  ${icon(s.status)} ${s.status === 'pending' ? c.dim(label) : label} ${c.dim(elapsed.padStart(7))}${op ? `  ${c.dim(op)}` : ''}`,
      );
    }
    const eta = cell?.progress.eta;
    const left =
      eta?.remainingSeconds != null
        ? `~${duration(Math.max(0, eta.remainingSeconds - (now - snapshotAt) / 1000))} left (${eta.basis}${eta.samples ? `, ${eta.samples} past cells` : ''})`
        : 'no estimate yet';
    lines.push(c.dim(`  ${status} · ${duration((now - started) / 1000)} elapsed · ${left}`));
    log(lines.join('\n'));
  }

  const start = () => {
    timer ??= setInterval(() => {
      frame++;
      render();
    }, spinner.interval);
  };
  start();

  return {
    event(event) {
      if (event.event === 'status') status = event.data.status;
      if (event.event === 'operation') operations.set(event.data.step, event.data.operation);
      if (event.event === 'step') operations.delete(event.data.name);
    },
    snapshot(next) {
      cell = next;
      snapshotAt = Date.now();
      status = next.status;
      for (const s of next.steps) if (s.status !== 'running') operations.delete(s.name);
    },
    pause() {
      clearInterval(timer);
      timer = undefined;
      render();
      log.done();
    },
    resume: start,
    stop() {
      clearInterval(timer);
      timer = undefined;
      render();
      log.done();
    },
  };
}
