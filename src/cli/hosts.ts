import type { Command } from 'commander';
import type { Host } from '../client/index.js';
import { clientOf, withConnection } from './connection.js';
import { out as c, print, printJson, table } from './output.js';

// `hive hosts …`: the machines whose workers take cells, over the HTTP API, and draining them.

const stateLook: Record<Host['state'], (text: string) => string> = {
  live: c.green,
  drained: c.yellow,
  unresponsive: c.red,
  lost: c.red,
};

/** `512M`, `15.6G`: memory and disk at a glance (the API counts MiB). */
export function mebibytes(mb: number): string {
  return mb < 1024 ? `${mb}M` : `${(mb / 1024).toFixed(1)}G`;
}

/** How long ago, coarsely: `4s`, `3m`, `2h`, `5d`. */
export function age(iso: string, now = Date.now()): string {
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86_400)}d`;
}

const round = (n: number) => String(Math.round(n * 100) / 100);

export function registerHostCommands(program: Command): void {
  const hosts = withConnection(
    program.command('hosts').description('The hosts whose workers take cells; drain one before its upkeep'),
  );

  hosts
    .command('ls')
    .description('Registered hosts: state, cells, reserved/capacity, free disk, load, last heartbeat')
    .option('--json', 'machine-readable output: GET /hosts')
    .action(async (options: { json?: boolean }, command: Command) => {
      const list = await clientOf(command).hosts.list();
      if (options.json) return printJson(list);
      if (list.length === 0)
        return print(
          'No hosts registered. A worker registers its host when it starts (HIVE_HOST_ID names it).',
        );
      const now = Date.now();
      const rows = list.map((h) => [
        h.id,
        h.state,
        String(h.cells),
        `${round(h.reserved.cpus)}/${round(h.capacity.cpus)}`,
        `${mebibytes(h.reserved.memoryMb)}/${mebibytes(h.capacity.memoryMb)}`,
        mebibytes(h.freeDiskMb),
        round(h.load),
        `${age(h.heartbeatAt, now)} ago`,
        h.workspaces.join(',') || '-',
      ]);
      const header = [
        'ID',
        'STATE',
        'CELLS',
        'CPUS',
        'MEMORY',
        'FREE DISK',
        'LOAD',
        'HEARTBEAT',
        'WORKSPACES',
      ];
      // Colour after padding, so escape sequences do not upset the column widths.
      const [head, ...lines] = table(header, rows);
      print(head);
      lines.forEach((line, i) => {
        const state = list[i]?.state ?? 'live';
        print(line.replace(` ${state} `, ` ${stateLook[state](state)} `));
      });
    });

  hosts
    .command('drain <id>')
    .description('Take no new cells on this host; its cells live on (admin)')
    .action(async (id: string, _options: unknown, command: Command) => {
      const host = await clientOf(command).hosts.drain(id);
      print(
        `Host ${c.bold(host.id)} drained: it takes no new cells; its ${host.cells} ${host.cells === 1 ? 'cell lives' : 'cells live'} on. Undo: hive hosts undrain ${host.id}`,
      );
    });

  hosts
    .command('undrain <id>')
    .description('Let this host take new cells again (admin)')
    .action(async (id: string, _options: unknown, command: Command) => {
      const host = await clientOf(command).hosts.undrain(id);
      print(
        `Host ${c.bold(host.id)} undrained: it takes new cells again${host.state === 'live' ? '' : ` once it is live (it is ${host.state})`}.`,
      );
    });
}
