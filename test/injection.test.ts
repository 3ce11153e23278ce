import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dotenvLine, parseEnvFile } from '../src/cells/envFile.js';
import { createHarness, type Harness, waitForStatus } from './support/harness.js';
import { webService, workspaceFiles } from './support/templates.js';

// Request values are data: through options, briefs and names they reach commands only as
// environment variables, and arrive verbatim. Each value would create a marker file if any shell
// ever parsed it.
const marker = `/tmp/hive-pwned-${process.pid}`;
const corpus = [
  `$(touch ${marker}-1)`,
  `\`touch ${marker}-2\``,
  `x; touch ${marker}-3`,
  `x | touch ${marker}-4`,
  `x && touch ${marker}-5`,
  `line one\n$(touch ${marker}-6)`,
  `'; touch ${marker}-7; '`,
  `"; touch ${marker}-8; "`,
  `$HOME \${HOME} %s \\n`,
];

const echo = {
  label: 'Echo',
  options: { msg: { type: 'string', default: 'hi' } },
  setup: ["printf %s '$OPTION:msg' > .hive/setup-msg"],
  teardown: ['printf %s $OPTION:msg > "$HIVE_WORKSPACE_DIR/teardown-msg-$HIVE_CELL_ID"'],
  services: {
    web: {
      ...webService,
      setup: ['printf %s $OPTION:msg > .hive/service-setup-msg'],
      run: 'printf %s "$OPTION:msg" > .hive/run-msg; node server.js',
    },
  },
};

describe('values are data', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness('injection', workspaceFiles({ echo }));
  });
  afterAll(() => h?.close());

  it('an injection corpus through options and briefs runs nothing and arrives verbatim', async () => {
    const cells = await Promise.all(
      corpus.map(async (msg) => {
        const response = await h.app.inject({
          method: 'POST',
          url: '/cells',
          payload: { workspace: 'demo', template: 'echo', brief: msg, options: { msg } },
        });
        expect(response.statusCode, response.body).toBe(202);
        return { msg, id: (response.json() as { id: string }).id };
      }),
    );
    for (const { msg, id } of cells) {
      const cell = await waitForStatus(h, id, ['ready', 'failed']);
      expect(cell.status, JSON.stringify(cell.failure)).toBe('ready');
      const dir = cell.worktreePath ?? '';
      for (const file of ['setup-msg', 'service-setup-msg', 'run-msg']) {
        expect(await readFile(path.join(dir, '.hive', file), 'utf8'), file).toBe(msg);
      }
      // Sourcing the env file, as the prompt tells agents to, expands nothing.
      const sourced = await execa('sh', ['-c', '. .hive/env && printf %s "$HIVE_OPTION_MSG"'], { cwd: dir });
      expect(sourced.stdout).toBe(msg);
      expect(cell.prompt?.content).toContain(msg);
      expect((await h.app.inject({ method: 'DELETE', url: `/cells/${id}?force=true` })).statusCode).toBe(202);
    }
    for (const { msg, id } of cells) {
      await waitForStatus(h, id, ['archived']);
      expect(await readFile(path.join(h.workspace.path, `teardown-msg-${id}`), 'utf8')).toBe(msg);
    }
    for (let i = 1; i <= corpus.length; i++) {
      expect(
        await stat(`${marker}-${i}`).catch(() => undefined),
        `${marker}-${i} was created`,
      ).toBeUndefined();
    }
  });

  it('a string option can declare pattern, maxLength and values; a value outside them is refused', async () => {
    const strict = await createHarness(
      'injection-strict',
      workspaceFiles({
        strict: {
          label: 'Strict',
          options: {
            slug: { type: 'string', pattern: '^[a-z]+$', maxLength: 5, default: 'abc' },
            mode: { type: 'string', values: ['fast', 'slow'], default: 'fast' },
          },
        },
      }),
    );
    try {
      const tryOptions = (options: object) =>
        strict.app.inject({
          method: 'POST',
          url: '/templates/strict/validate',
          payload: { workspace: 'demo', options },
        });
      expect((await tryOptions({ slug: 'abcd', mode: 'slow' })).json().ok).toBe(true);
      for (const bad of [{ slug: 'ABC' }, { slug: 'abcdef' }, { mode: 'other' }]) {
        const report = (await tryOptions(bad)).json();
        expect(report.ok, JSON.stringify(bad)).toBe(false);
        expect(report.findings[0].path).toMatch(/^options\./);
      }
    } finally {
      await strict.close();
    }
  });
});

describe('.hive/env, written and read back', () => {
  it('every value of the corpus, newlines and quotes included, reads back verbatim and expands nothing', async () => {
    const values = Object.fromEntries(corpus.map((value, i) => [`V${i}`, value]));
    const text = `${Object.entries(values)
      .map(([key, value]) => dotenvLine(key, value))
      .join('\n')}\n`;
    expect(parseEnvFile(text)).toEqual(values);
    // The shell reads it the same way (what the prompt tells an agent to do: `. .hive/env`).
    const { stdout } = await execa('sh', [
      '-c',
      `${text}\nprintf '%s\\0' ${Object.keys(values)
        .map((k) => `"$${k}"`)
        .join(' ')}`,
    ]);
    expect(stdout.split('\0').slice(0, -1)).toEqual(Object.values(values));
  });
});
