import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import which from 'which';
import { shellWord } from './blocks.js';
import { type GoFacts, type GoMain, mainFor } from './goapp.js';
import type { PackageManager } from './packageManagers.js';

// A Procfile (Heroku's): its process types, and the build its platform runs before any of them.
// Heroku's Node.js buildpack runs the `heroku-postbuild` script, else `build`, after the install;
// its Go buildpack compiles the main packages into bin/<name> (on its PATH, so a Procfile may name
// the binary bare: `web: go-getting-started`).

export interface ProcfileEntry {
  name: string;
  command: string;
  /** The command's first word when it is neither a file in the repository nor on this host's PATH. */
  unknownProgram?: string;
}

const FIRST_WORD = /^(\s*(?:exec\s+)?)([\w.-]+)(?=\s|$)/;

/** The first word of `command` when nothing here runs it (no file in the repo, not on PATH). */
async function unknownProgram(root: string, command: string): Promise<string | undefined> {
  const word = FIRST_WORD.exec(command)?.[2];
  if (!word) return undefined;
  if (await stat(path.join(root, word)).catch(() => undefined)) return undefined;
  return (await which(word, { nothrow: true })) ? undefined : word;
}

export async function detectProcfile(root: string): Promise<ProcfileEntry[] | undefined> {
  const text = await readFile(path.join(root, 'Procfile'), 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  const entries = text
    .split('\n')
    .map((line) => /^([A-Za-z0-9_-]+):\s*(.+)$/.exec(line.trim()))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m): ProcfileEntry => ({ name: m[1] ?? '', command: (m[2] ?? '').trim() }));
  for (const e of entries) e.unknownProgram = await unknownProgram(root, e.command);
  return entries;
}

/**
 * The Go binary a Procfile command runs, as Heroku's Go build makes it: `bin/<name>`, or a bare
 * `<name>` nothing here provides when the module has a main package. `run` is the command as a cell
 * runs it (a bare name becomes bin/<name>, the rest of its arguments kept).
 */
export function goBinary(
  e: ProcfileEntry,
  go: GoFacts | undefined,
): { binary: string; main: GoMain; run: string } | undefined {
  if (!go) return undefined;
  const binary = BIN.exec(e.command)?.[1];
  if (binary) {
    const main = mainFor(go, binary);
    return main && { binary, main, run: e.command };
  }
  const bare = e.unknownProgram;
  const main = bare ? mainFor(go, bare) : undefined;
  if (!bare || !main) return undefined;
  return {
    binary: bare,
    main,
    run: e.command.replace(FIRST_WORD, (_, lead: string) => `${lead}bin/${bare}`),
  };
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
  const built = new Set<string>();
  for (const e of entries) {
    const found = goBinary(e, go);
    if (!found || built.has(found.binary)) continue;
    const { binary, main } = found;
    built.add(binary);
    steps.push({
      command: `go build -o bin/${binary} ${shellWord(main.pkg)}`,
      why:
        found.run === e.command
          ? `The Procfile runs bin/${binary}, which a Go build makes (as Heroku's Go build does).`
          : `The Procfile runs ${binary}, which Heroku's Go build makes as bin/${binary} (run here as bin/${binary}).`,
    });
  }
  return steps;
}
