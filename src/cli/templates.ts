import type { Command } from 'commander';
import { clientOf, withConnection } from './connection.js';
import { collectPair, resolveWorkspace, templateOptions } from './options.js';
import { out as c, findingLines, print, printJson, table } from './output.js';

// `hive templates …`: what can be provisioned where, and the dry run (`hive workspaces`: workspaces.ts).

export function registerTemplateCommands(program: Command): void {
  const templates = withConnection(
    program.command('templates').description("A workspace's templates and their dry run"),
  );

  templates
    .command('ls')
    .description('Templates of a workspace')
    .option('-w, --workspace <id>', 'workspace (default: the only one)')
    .option('--json', 'machine-readable output')
    .action(async (options: { workspace?: string; json?: boolean }, command: Command) => {
      const client = clientOf(command);
      const list = await client.listTemplates(await resolveWorkspace(client, options.workspace));
      if (options.json) return printJson(list);
      const rows = list.map((t) => [
        t.id,
        t.label,
        t.services.join(', ') || '-',
        t.measured ? `${t.measured.p50Seconds}s (${t.measured.samples})` : '-',
        t.pool
          ? `${t.pool.ready}/${t.pool.size} ready${t.pool.warming ? `, ${t.pool.warming} warming` : ''}${t.pool.claimed ? `, ${t.pool.claimed} claimed` : ''}`
          : '-',
      ]);
      for (const line of table(['ID', 'LABEL', 'SERVICES', 'TYPICAL TIME', 'WARM POOL'], rows)) print(line);
    });

  templates
    .command('show <id>')
    .description('One template: options, services, ports, probes, setup')
    .option('-w, --workspace <id>', 'workspace (default: the only one)')
    .option('--json', 'machine-readable output')
    .action(async (id: string, options: { workspace?: string; json?: boolean }, command: Command) => {
      const client = clientOf(command);
      const t = await client.getTemplate(await resolveWorkspace(client, options.workspace), id);
      if (options.json) return printJson(t);
      print(`${c.bold(t.id)}  ${t.label}`);
      if (t.description) print(`  ${t.description}`);
      const props = (
        t.options as {
          properties?: Record<string, { type?: string; default?: unknown; description?: string }>;
        }
      ).properties;
      for (const [name, o] of Object.entries(props ?? {})) {
        print(
          `  ${c.dim('option')}   ${name} (${o.type ?? 'any'}${o.default === undefined ? '' : `, default ${JSON.stringify(o.default)}`})${o.description ? ` ${o.description}` : ''}`,
        );
      }
      for (const s of t.services) {
        const ports = Object.entries(s.ports)
          .map(([n, p]) => `${n}=${JSON.stringify(p)}`)
          .join(' ');
        const deps = Object.entries(s.dependsOn).map(([n, cond]) => `${n}:${cond}`);
        print(`  ${c.dim('service')}  ${c.bold(s.name)}  ${s.run}`);
        if (ports) print(`           ports ${ports}${s.readiness ? `, ready by ${s.readiness.type}` : ''}`);
        if (deps.length) print(`           after ${deps.join(', ')}`);
      }
      for (const cmd of t.setup) print(`  ${c.dim('setup')}    ${cmd}`);
      if (t.includePatterns.length) print(`  ${c.dim('includes')} ${t.includePatterns.join(', ')}`);
      const executables = Object.entries(t.requirements.executables);
      if (executables.length)
        print(`  ${c.dim('needs')}    ${executables.map(([n, r]) => `${n} ${r}`).join(', ')}`);
    });

  templates
    .command('validate <id>')
    .description('Dry run: could a cell of this template be provisioned here? Changes nothing')
    .option('-w, --workspace <id>', 'workspace (default: the only one)')
    .option('-o, --option <key=value>', 'template option, repeatable', collectPair, [])
    .option('--base <ref>', 'base ref to check')
    .option('--json', 'machine-readable output')
    .action(
      async (
        id: string,
        options: { workspace?: string; option: string[]; base?: string; json?: boolean },
        command: Command,
      ) => {
        const client = clientOf(command);
        const workspace = await resolveWorkspace(client, options.workspace);
        const report = await client.validateTemplate(workspace, id, {
          options: await templateOptions(client, workspace, id, options.option),
          baseRef: options.base,
        });
        process.exitCode = report.ok ? 0 : 1;
        if (options.json) return printJson(report);
        print(
          report.ok
            ? `${c.green('✔')} ${id} can be provisioned in ${workspace}`
            : `${c.red('✖')} ${id} cannot be provisioned in ${workspace}`,
        );
        for (const line of findingLines(report.findings)) print(line);
      },
    );
}
