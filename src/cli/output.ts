import pc from 'picocolors';
import type { Finding } from '../client/index.js';
import { HiveApiError, HiveUnreachableError } from '../client/index.js';

// How the `hive` command talks to people and to scripts: colour only on a terminal (and never with
// NO_COLOR), data on stdout, everything else on stderr, problems with what to do about them.

/** Colour for a stream: on a TTY, unless NO_COLOR is set (https://no-color.org) or TERM=dumb. */
export function colorsFor(stream: NodeJS.WriteStream) {
  const env = process.env;
  const enabled =
    !env.NO_COLOR && (Boolean(env.FORCE_COLOR) || (stream.isTTY === true && env.TERM !== 'dumb'));
  return pc.createColors(enabled);
}

export const out = colorsFor(process.stdout);
export const errColors = colorsFor(process.stderr);

export function print(line = ''): void {
  process.stdout.write(`${line}\n`);
}
export function printErr(line = ''): void {
  process.stderr.write(`${line}\n`);
}
export function printJson(value: unknown): void {
  print(JSON.stringify(value, null, 2));
}

/** A failure the command explains itself; `exitCode` 2 for refusals and bad input. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 2,
  ) {
    super(message);
  }
}

/** Columns padded to their widest cell; the header dimmed. */
export function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [out.dim(line(header)), ...rows.map(line)];
}

export function findingLines(findings: Finding[], c = out): string[] {
  return findings.flatMap((f) => [
    `  ${f.severity === 'error' ? c.red('error') : c.yellow('warning')} ${c.bold(f.path)}: ${f.message}`,
    `    ${c.dim(`→ ${f.hint}`)}`,
  ]);
}

/** Prints an error as a person needs it (problem details in full) and sets the exit code. */
export function reportError(error: unknown): void {
  const c = errColors;
  if (error instanceof HiveApiError) {
    printErr(`${c.red('hive:')} ${error.title}${error.status ? c.dim(` (${error.status})`) : ''}`);
    if (error.detail) printErr(`  ${error.detail}`);
    for (const e of error.errors) printErr(`  ${c.bold(e.pointer)}: ${e.detail}`);
    if (error.findings.length) printErr(findingLines(error.findings, c).join('\n'));
    if (error.allowedActions)
      printErr(
        c.dim(`  state ${error.currentState ?? '?'} allows: ${error.allowedActions.join(', ') || 'nothing'}`),
      );
    process.exitCode = 2;
  } else if (error instanceof HiveUnreachableError || error instanceof CliError) {
    printErr(`${c.red('hive:')} ${error.message}`);
    process.exitCode = error instanceof CliError ? error.exitCode : 2;
  } else {
    printErr(`${c.red('hive:')} ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  }
}

/** `12.3s`, `2m05s`: elapsed and remaining times at a glance. */
export function duration(seconds: number): string {
  if (seconds < 60) return `${seconds.toFixed(1)}s`;
  const m = Math.floor(seconds / 60);
  return `${m}m${String(Math.round(seconds % 60)).padStart(2, '0')}s`;
}
