import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cellDetail } from '../src/cells/views.js';
import { requestCell } from './support/cells.js';
import { createHarness, type Harness, waitForStatus } from './support/harness.js';
import { eventually } from './support/process.js';

// A service's log grows for as long as its cell lives: a log probe reads only what was appended
// (never the whole log at every check), and supervision rotates a log past its bound while the
// service goes on writing, healthy.

/** Prints 3 MiB of noise, then "ready", then a line every 200 ms. */
const chatty = `const line = 'x'.repeat(1023) + '\\n';
for (let i = 0; i < 3 * 1024; i++) process.stdout.write(line);
console.log('server ready');
let n = 0;
setInterval(() => console.log('tick ' + n++), 200);
`;

const MiB = 1024 * 1024;
let h: Harness;
beforeAll(async () => {
  h = await createHarness(
    'log-rotation',
    {
      'chatty.js': chatty,
      'hive.config.json': JSON.stringify({
        templates: {
          chatty: {
            label: 'Chatty',
            services: {
              app: {
                run: 'node chatty.js',
                ports: {},
                readiness: { type: 'log', pattern: 'server ready', periodMs: 100 },
                readyTimeoutMs: 30_000,
              },
            },
          },
        },
      }),
    },
    { logMaxBytes: MiB },
  );
});
afterAll(async () => h?.close());

describe('service logs', () => {
  it('a log probe finds its line past megabytes of output, and a big log is rotated while the service stays ready', async () => {
    const id = await requestCell(h, 'chatty');
    const ready = await waitForStatus(h, id, ['ready']);
    const pid = ready.services[0]?.pid;
    const log = path.join(ready.worktreePath ?? '', '.hive', 'logs', 'app.log');
    const rotated = await eventually(
      async () => (((await stat(`${log}.1`).catch(() => undefined))?.size ?? 0) > 3 * MiB ? true : undefined),
      'the log rotated to app.log.1',
      60_000,
    );
    expect(rotated).toBe(true);
    // The service writes on at the start of its emptied log, and nobody restarted it.
    await eventually(
      async () => ((await readFile(log, 'utf8')).includes('tick') ? true : undefined),
      'new lines in the rotated log',
      10_000,
    );
    expect((await stat(log)).size).toBeLessThan(MiB);
    const after = await cellDetail(h.db, id);
    expect(after?.status).toBe('ready');
    expect(after?.services[0]?.pid).toBe(pid);
    expect(after?.services[0]?.status).toBe('ready');
  });
});
