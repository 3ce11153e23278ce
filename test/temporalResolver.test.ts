import { execa } from 'execa';
import { describe, expect, inject, it } from 'vitest';
import { findTemporalCli, TEMPORAL_CLI_VERSION } from '../src/temporal/cli.js';
import { useTemporalServer } from '../src/temporal/devServer.js';

describe('which Temporal server to use', () => {
  it('TEMPORAL_ADDRESS wins: connect to it and start nothing', async () => {
    const server = await useTemporalServer({ address: '10.0.0.1:7233', port: 0, namespace: 'default' });
    expect(server).toMatchObject({ address: '10.0.0.1:7233', origin: 'TEMPORAL_ADDRESS' });
    await server.stop();
  });

  it('TEMPORAL_CLI_PATH must name an existing file', async () => {
    await expect(findTemporalCli('/no/such/temporal')).rejects.toThrow(/TEMPORAL_CLI_PATH: no file/);
  });

  it('the CLI the project resolves is the pinned version', async () => {
    const cli = await findTemporalCli(process.env.TEMPORAL_CLI_PATH);
    expect(cli).toBeDefined();
    const { stdout } = await execa(cli?.path ?? 'temporal', ['--version']);
    // A user may bring their own (newer) CLI on PATH; the one we build reports the pin.
    if (cli?.source === 'tools' || cli?.source === 'built') expect(stdout).toContain(TEMPORAL_CLI_VERSION);
    expect(stdout).toMatch(/temporal version/);
  });

  it('the shared dev server was started with the custom search attributes registered', async () => {
    const cli = await findTemporalCli(process.env.TEMPORAL_CLI_PATH);
    const { stdout } = await execa(cli?.path ?? 'temporal', [
      'operator',
      'search-attribute',
      'list',
      '--address',
      inject('temporalAddress'),
    ]);
    for (const name of ['CellId', 'TemplateId', 'CellStatus', 'WorkspaceId']) {
      expect(stdout).toMatch(new RegExp(`${name}\\s+Keyword`));
    }
  });
});
