// An agent runner in its own process, as a real one is: it POSTs a cell request to Hive's API over
// HTTP and waits on the cell's event stream until the cell rests. bench/provision.ts times cells
// through it, so the client's own work (HTTP, SSE parsing) is not done on the event loop of the
// Hive it measures. Started by agentClient() below with an IPC channel; one request per message.
import { fork } from 'node:child_process';
import { createHiveClient } from '../src/client/index.js';

export interface Provisioned {
  id: string;
  workflowId: string;
  status: string;
  failure?: unknown;
  /** Wall-clock times (ms since the epoch; one host, one clock): POST sent, 202 received, ready seen. */
  postedAt: number;
  acceptedAt: number;
  readySeenAt: number;
  /** POST until ready, by this process's monotonic clock. */
  ms: number;
}

type Ask = { n: number; url: string; workspace: string; template: string; brief: string };
type Answer = { n: number; ok: true; cell: Provisioned } | { n: number; ok: false; error: string };

async function provision(ask: Ask): Promise<Provisioned> {
  const hive = createHiveClient({ url: ask.url });
  const postedAt = Date.now();
  const started = performance.now();
  const { id, workflowId } = await hive.createCell({
    workspace: ask.workspace,
    template: ask.template,
    brief: ask.brief,
  });
  const acceptedAt = Date.now();
  const cell = await hive.waitForCell(id);
  return {
    id,
    workflowId,
    status: cell.status,
    failure: cell.failure,
    postedAt,
    acceptedAt,
    readySeenAt: Date.now(),
    ms: performance.now() - started,
  };
}

if (process.send && process.argv[2] === 'agent') {
  process.on('message', (ask: Ask) => {
    provision(ask).then(
      (cell) => process.send?.({ n: ask.n, ok: true, cell } satisfies Answer),
      (error: unknown) => process.send?.({ n: ask.n, ok: false, error: String(error) } satisfies Answer),
    );
  });
}

/** Starts the agent process; `provision` asks it for one cell (several may be in flight). */
export function agentClient(url: string) {
  const child = fork(import.meta.filename, ['agent'], { execArgv: ['--import', 'tsx'], stdio: 'inherit' });
  const waiting = new Map<number, { resolve: (c: Provisioned) => void; reject: (e: Error) => void }>();
  let next = 0;
  child.on('message', (answer: Answer) => {
    const w = waiting.get(answer.n);
    waiting.delete(answer.n);
    if (answer.ok) w?.resolve(answer.cell);
    else w?.reject(new Error(answer.error));
  });
  return {
    provision(request: { workspace: string; template: string; brief: string }): Promise<Provisioned> {
      const n = next++;
      return new Promise((resolve, reject) => {
        waiting.set(n, { resolve, reject });
        child.send({ n, url, ...request } satisfies Ask);
      });
    },
    close(): void {
      child.kill();
    },
  };
}
