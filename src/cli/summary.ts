import { explainedStatuses, liveStatuses, statusIn } from '../cells/status.js';
import type { CellDetail } from '../client/index.js';
import { out as c, duration, print, table } from './output.js';

// What a person reads about a cell once it rests: where it is and how to get in, or what failed
// and what to do next.

const elapsedOf = (cell: CellDetail) =>
  duration(Math.max(0, (Date.parse(cell.updatedAt) - Date.parse(cell.createdAt)) / 1000));

export function printReady(cell: CellDetail): void {
  const badge = cell.status === 'ready' ? c.green('✔') : c.yellow('!');
  print(`${badge} Cell ${c.bold(cell.id)} is ${c.bold(cell.status)} ${c.dim(`(${elapsedOf(cell)})`)}`);
  const rows: Array<[string, string]> = [];
  if (cell.worktreePath) rows.push(['worktree', cell.worktreePath]);
  if (cell.branch) rows.push(['branch', cell.branch]);
  for (const s of cell.services) {
    rows.push([
      `service ${s.name}`,
      `${s.url ?? (s.port ? `port ${s.port}` : '(no port)')}  ${c.dim(s.status)}`,
    ]);
    // Through Hive's proxy: the same name after a restart or a port change.
    if (s.publicUrl) rows.push(['', s.publicUrl]);
  }
  if (cell.url) rows.push(['main service', cell.url]);
  if (cell.worktreePath) rows.push(['env', `${cell.worktreePath}/.hive/env`]);
  if (cell.prompt) rows.push(['prompt', cell.prompt.path]);
  for (const [k, v] of rows) print(`  ${c.dim(k.padEnd(18))} ${v}`);
  print();
  print(`  Enter it:   ${c.cyan(`hive cells shell ${cell.id}`)}`);
  print(`  Run in it:  ${c.cyan(`hive cells exec ${cell.id} -- <command>`)}`);
  print(`  Archive it: ${c.cyan(`hive cells archive ${cell.id}`)}`);
}

export function printFailure(cell: CellDetail): void {
  const f = cell.failure;
  print(
    `${c.red('✖')} Cell ${c.bold(cell.id)} is ${c.bold(cell.status)}${f ? ` at step ${c.bold(f.step)} (${f.type})` : ''}`,
  );
  if (f) {
    print(`  ${c.dim('message')}  ${f.message}`);
    if (f.hint) print(`  ${c.dim('hint')}     ${f.hint}`);
    if (f.logTail) {
      print(`  ${c.dim('log tail')}`);
      for (const line of f.logTail.split('\n')) print(`    ${c.dim('│')} ${line}`);
    }
    for (const r of f.residue ?? []) print(`  ${c.yellow('left behind')} ${r.step}: ${r.type}: ${r.message}`);
  }
  const next: Record<string, string> = {
    retry: `hive cells retry ${cell.id}`,
    cancel: `hive cells cancel ${cell.id}`,
    cleanup: `hive cells cleanup ${cell.id}`,
    restore: `hive cells restore ${cell.id}`,
  };
  const actions = cell.actions.filter((a) => a in next);
  if (actions.length)
    print(`  ${c.dim('next')}     ${actions.map((a) => c.cyan(next[a] ?? a)).join('  |  ')}`);
}

/** Ready (or degraded) cells show where they are; every other state what happened. */
export function printOutcome(cell: CellDetail): void {
  if (statusIn(liveStatuses, cell.status)) printReady(cell);
  else printFailure(cell);
}

/** `hive cells show`: the outcome, then every step with its timing and result. */
export function printDetail(cell: CellDetail): void {
  print(
    `${c.bold(cell.id)}  ${cell.name !== cell.id ? `${cell.name}  ` : ''}${cell.workspaceId}/${cell.templateId}`,
  );
  print(`  ${c.dim('brief'.padEnd(18))} ${cell.brief.split('\n')[0]}`);
  print(`  ${c.dim('status'.padEnd(18))} ${cell.status}${cell.host ? c.dim(` on ${cell.host}`) : ''}`);
  print(`  ${c.dim('created'.padEnd(18))} ${cell.createdAt}`);
  if (statusIn(liveStatuses, cell.status)) printReady(cell);
  else if (cell.failure || statusIn(explainedStatuses, cell.status)) printFailure(cell);
  if (cell.progress.operation) print(`  ${c.dim('now'.padEnd(18))} ${cell.progress.operation}`);
  if (cell.archive?.ref) print(`  ${c.dim('archived work'.padEnd(18))} ${cell.archive.ref}`);
  if (cell.steps.length) {
    print();
    const rows = cell.steps.map((s) => [
      s.kind === 'compensation' ? `undo ${s.name}` : s.name,
      s.status,
      String(s.attempt),
      s.endedAt ? duration((Date.parse(s.endedAt) - Date.parse(s.startedAt)) / 1000) : '',
      s.operation ?? '',
    ]);
    for (const line of table(['STEP', 'STATUS', 'TRY', 'TIME', 'NOW'], rows)) print(`  ${line}`);
  }
  if (cell.actions.length) print(`\n  ${c.dim('allowed')} ${cell.actions.join(', ')}`);
}
