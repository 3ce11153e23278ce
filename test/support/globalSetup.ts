import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import type { TestProject } from 'vitest/node';
import { applyMigrations } from '../../src/db/migrate.js';
import { useTemporalServer } from '../../src/temporal/devServer.js';
import { workflowsPath } from '../../src/worker/index.js';
import { launchBrowserServer } from './browserServer.js';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    workflowBundlePath: string;
    templateDbPath: string;
    /** Playwright endpoint of the one Chromium the browser tests share (chromium.connect). */
    chromiumWsEndpoint: string;
  }
}

/**
 * One real Temporal dev server for the whole run (started by the project's own module, headless,
 * free ports), one workflow bundle, and one migrated database that each test file copies.
 */
export default async function setup(project: TestProject) {
  const dir = await mkdtemp(path.join(tmpdir(), 'hive-test-'));
  const server = await useTemporalServer({
    port: 0,
    namespace: 'default',
    log: (line) => process.stdout.write(`${line}\n`),
  });
  const [bundle, , browser] = await Promise.all([
    bundleWorkflowCode({ workflowsPath, logger: quietLogger }),
    applyMigrations(`file:${path.join(dir, 'template.db')}`),
    launchBrowserServer(),
  ]);
  const workflowBundlePath = path.join(dir, 'workflow-bundle.js');
  await writeFile(workflowBundlePath, bundle.code);
  project.provide('temporalAddress', server.address);
  project.provide('workflowBundlePath', workflowBundlePath);
  project.provide('templateDbPath', path.join(dir, 'template.db'));
  project.provide('chromiumWsEndpoint', browser.wsEndpoint());
  return async () => {
    await browser.close();
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  };
}

const quietLogger = {
  log() {},
  trace() {},
  debug() {},
  info() {},
  warn(message: string) {
    process.stderr.write(`${message}\n`);
  },
  error(message: string) {
    process.stderr.write(`${message}\n`);
  },
};
