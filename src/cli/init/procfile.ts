import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { type GoFacts, mainFor } from './goapp.js';
import type { PackageManager } from './packageManagers.js';

// A Procfile (Heroku's): its process types, and the build its platform runs before any of them.
// Heroku's Node.js buildpack runs the `heroku-postbuild` script, else `build`, after the install;
// its Go buildpack compiles the main packages into bin/<name>.

export interface ProcfileEntry {
  name: string;
  command: string;
}

export async function detectProcfile(root: string): Promise<ProcfileEntry[] | undefined> {
  const text = await readFile(path.join(root, 'Procfile'), 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  return text
    .split('\n')
    .map((line) => /^([A-Za-z0-9_-]+):\s*(.+)$/.exec(line.trim()))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ name: m[1] ?? '', command: (m[2] ?? '').trim() }));
}

const BIN = /^\s*(?:exec\s+)?(?:\.\/)?bin\/([\w.-]+)(\s|$)/;

/** The commands the platform would run before the Procfile's processes, with why. */
export function procfileBuild(
  entries: ProcfileEntry[],
  scripts: Record<string, string> | undefined,
  pm: PackageManager | undefined,
  go: GoFacts | undefined,
): Array<{ command: string; why: string }> {
  const steps: Array<{ command: string; why: string }> = [];
  if (scripts && pm) {
    const script =
      scripts['heroku-postbuild'] !== undefined
        ? 'heroku-postbuild'
        : scripts.build !== undefined
          ? 'build'
          : undefined;
    if (script)
      steps.push({
        command: pm.run(script),
        why: `Heroku's Node.js build runs "${script}" before the Procfile's processes.`,
      });
  }
  if (go) {
    const built = new Set<string>();
    for (const e of entries) {
      const binary = BIN.exec(e.command)?.[1];
      const main = binary ? mainFor(go, binary) : undefined;
      if (!binary || !main || built.has(binary)) continue;
      built.add(binary);
      steps.push({
        command: `go build -o bin/${binary} ${main.pkg}`,
        why: `The Procfile runs bin/${binary}, which a Go build makes (as Heroku's Go build does).`,
      });
    }
  }
  return steps;
}
