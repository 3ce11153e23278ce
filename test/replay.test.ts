import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { Worker } from '@temporalio/worker';
import { describe, expect, inject, it } from 'vitest';
import { historiesDir, historyFile, recordScenario, scenarios } from './support/histories.js';

// Workflow code must stay deterministic: a history recorded by an earlier version has to replay on
// the current code. The corpus in test/histories/ holds one recorded history per feature of the
// cell's workflow (scenarios in test/support/histories.ts); every one replays on the current
// bundle. RECORD_HISTORIES=1 (or a comma-separated list of scenario names) records them again from
// real runs first — only when the workflow's baseline changes on purpose (see docs/lifecycle.md).

const bundle = () => ({ workflowBundle: { codePath: inject('workflowBundlePath') } });
const recording = process.env.RECORD_HISTORIES;
const wanted = (name: string) =>
  recording === '1' || recording === 'all' || (recording?.split(',') ?? []).includes(name);

describe.skipIf(!recording)('recording the replay corpus', () => {
  for (const [name, scenario] of Object.entries(scenarios).filter(([n]) => wanted(n))) {
    it(`records ${name}: ${scenario.shows}`, { timeout: 240_000 }, async () => {
      const files = await recordScenario(name, scenario);
      expect(files.length).toBeGreaterThan(0);
    });
  }
});

describe('workflow determinism', () => {
  it('every feature of the corpus has a recorded history', async () => {
    const files = await readdir(historiesDir);
    for (const name of Object.keys(scenarios)) {
      expect(files, `no history for ${name}: record it (test/support/histories.ts)`).toContain(
        path.basename(historyFile(name, 0)),
      );
    }
  });

  it('every history of the corpus replays on the current workflow code', { timeout: 120_000 }, async () => {
    const files = (await readdir(historiesDir)).filter((f) => f.endsWith('.json')).sort();
    expect(files.length).toBeGreaterThan(0);
    const histories = await Promise.all(
      files.map(async (file) => ({
        workflowId: file,
        history: JSON.parse(await readFile(path.join(historiesDir, file), 'utf8')) as unknown,
      })),
    );
    const failures: string[] = [];
    let replayed = 0;
    for await (const result of Worker.runReplayHistories(bundle(), histories)) {
      replayed++;
      if (result.error) failures.push(`${result.workflowId}: ${result.error.message}`);
    }
    expect(failures).toEqual([]);
    expect(replayed).toBe(files.length);
  });
});
