import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, NativeConnection, Worker } from '@temporalio/worker';
import { describe, expect, inject, it } from 'vitest';

// Hive patches the SDK's workflow thread (patches/@temporalio+worker+*.patch, docs/benchmarks.md):
// Node's vm starts and joins a watchdog thread on every call into a workflow with a `timeout`, 3–4
// calls per activation, so the isolate execution limit is kept instead by one timer on the main
// thread. This proves the limit still holds: a workflow stuck in its own code stops the worker,
// loudly, within the limit, while workflows that answer still run.
describe('the workflow thread', () => {
  it('runs workflows without a per-call watchdog and still stops one stuck past the limit', {
    timeout: 120_000,
  }, async () => {
    const workflowBundle = await bundleWorkflowCode({
      workflowsPath: new URL('./fixtures/threadWorkflows.ts', import.meta.url).pathname,
      logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} },
    });
    const address = inject('temporalAddress');
    const connection = await NativeConnection.connect({ address });
    const taskQueue = `thread-${randomUUID()}`;
    const worker = await Worker.create({
      connection,
      taskQueue,
      workflowBundle,
      // Not in the SDK's public type (it defaults to 5 s), but honoured by it: 1 s keeps this short.
      ...({ isolateExecutionTimeout: '1s' } as object),
    });
    const client = new Client({ connection: await Connection.connect({ address }) });
    let ended: unknown;
    const running = worker.run().then(
      () => (ended = 'stopped'),
      (error: unknown) => (ended = error),
    );
    try {
      const answered = await client.workflow.execute('answers', {
        taskQueue,
        workflowId: `answers-${taskQueue}`,
      });
      expect(answered).toBe(`answered answers-${taskQueue}`);

      const started = Date.now();
      await client.workflow.start('spins', { taskQueue, workflowId: `spins-${taskQueue}` });
      await Promise.race([running, new Promise((r) => setTimeout(r, 60_000))]);
      expect(ended, 'the worker should have failed on the stuck workflow').toBeInstanceOf(Error);
      expect(String((ended as Error).message ?? ended)).toMatch(/answered nothing for 1000 ms/);
      expect(Date.now() - started).toBeLessThan(30_000);
      await client.workflow.getHandle(`spins-${taskQueue}`).terminate('test over');
    } finally {
      if (ended === undefined) worker.shutdown();
      await running;
      await connection.close();
      await client.connection.close();
    }
  });
});
