import path from 'node:path';
import { parse } from 'shell-quote';
import { shellWord } from './blocks.js';
import type { CodePort } from './codePort.js';
import { type Framework, type FrameworkId, frameworkOf } from './frameworks.js';
import { FAN_OUT } from './monorepo.js';
import type { PackageManager } from './packageManagers.js';

// Which script of a package runs its server, and the command that runs it on the cell's port.

export interface NodePackage {
  /** Its folder relative to the repository root ('.' for the root). */
  dir: string;
  name?: string;
  scripts: Record<string, string>;
  deps: Set<string>;
  nodeEngine?: string;
  /** An index.html next to package.json (a Vite SPA serves `/`). */
  indexHtml: boolean;
  /** A `.env.example`-style file in its folder, and whether a `.env` is there already. */
  envExample?: string;
  dotEnv: boolean;
  /** A port written in its server code, which reads no PORT (codePort.ts). */
  codePort?: CodePort;
}

export interface ServerPlan {
  script: string;
  body: string;
  framework?: Framework;
  run: string;
  /** What must run once before it (its build), when the script serves built output. */
  build?: string;
  /** HTTP readiness on `/` (a page is there), else Hive's default: the port accepts connections. */
  http: boolean;
  /** Its code listens on a port of its own: Hive adopts it (`ports: { primary: 'auto' }`). */
  autoPort?: CodePort;
  /** What init guessed, said in the written config. */
  notes: string[];
  /** What init could not do, said in the config and when init ends. */
  problems: string[];
}

/** Script names that start a server, best first: a dev server before a production one. */
const RANKS: Array<[RegExp, number, boolean]> = [
  // [name, rank, a framework is needed to count it]
  [/^dev$/, 0, false],
  [/^start:dev$/, 1, false],
  [/^develop$/, 2, false],
  [/^dev:(web|app|server|api|frontend|client|site)$/, 3, true],
  [/^serve$/, 4, false],
  [/^dev:.+$/, 5, true],
  [/^start$/, 6, false],
  [/^start:(?!prod|production).+$/, 7, true],
  [/^(start:prod|start:production|prod|production)$/, 8, false],
  [/^(serve:.+|preview)$/, 9, true],
];

/** Scripts that are no server whatever they are called. */
const NOT_SERVER =
  /^\s*(tsc|tsup|rollup|esbuild|babel|jest|vitest|mocha|eslint|prettier|prisma|drizzle-kit|docker|docker-compose|storybook|tailwindcss|echo|rimraf|husky)\b|\b(vite|next|nuxt|nuxi|astro|ng|remix|react-router|nest)\s+build\b/;

/** A script that serves what a build produced. */
const SERVES_BUILD =
  /\b(next\s+start|nuxt\s+(start|preview)|nuxi\s+preview|vite\s+preview|astro\s+preview|remix-serve|react-router-serve)\b|(^|[\s=/'"])(\.\/)?(dist|build|out|\.output)\//;

/** `npm run x`, `pnpm x`, `yarn run x`, `bun run x`: another script of the same package. */
const RUNS_SCRIPT = /^\s*(?:npm|pnpm|yarn|bun)\s+(?:run\s+)?([\w:.-]+)\s*$/;

const TOOL_WORDS: Partial<Record<FrameworkId, string[]>> = {
  vite: ['vite'],
  sveltekit: ['vite'],
  remix: ['remix'],
  'react-router': ['react-router'],
  astro: ['astro'],
  next: ['next'],
  nuxt: ['nuxt', 'nuxi'],
  angular: ['ng'],
  webpack: ['webpack', 'webpack-dev-server'],
  deno: ['deno'],
};

/** The server script of a package, best first; undefined when none looks like one. */
export function serverScript(pkg: NodePackage, options: { fanOutAllowed: boolean }) {
  let best: { script: string; rank: number } | undefined;
  for (const [script, body] of Object.entries(pkg.scripts)) {
    const rank = RANKS.find(([name]) => name.test(script));
    if (!rank || NOT_SERVER.test(body)) continue;
    if (!options.fanOutAllowed && FAN_OUT.test(body)) continue;
    if (rank[2] && !frameworkOf(resolve(pkg, script).body, pkg.deps)) continue;
    if (!best || rank[1] < best.rank) best = { script, rank: rank[1] };
  }
  return best?.script;
}

/** A script that only runs another script of the package is planned as that one. */
function resolve(
  pkg: NodePackage,
  script: string,
  seen = new Set<string>(),
): { script: string; body: string } {
  const body = pkg.scripts[script] ?? '';
  const next = RUNS_SCRIPT.exec(body)?.[1];
  if (next && pkg.scripts[next] !== undefined && !seen.has(next)) {
    seen.add(script);
    return resolve(pkg, next, seen);
  }
  return { script, body };
}

const ASSIGNMENT = /^[A-Za-z_][A-Za-z0-9_]*=/;

type Words = string[];

/** The script as simple commands joined by `&&` or `;`; undefined when it is more than that. */
function simpleCommands(body: string): Words[] | undefined {
  if (/[$`\\]/.test(body)) return undefined;
  const commands: Words[] = [[]];
  for (const token of parse(body)) {
    if (typeof token === 'string') commands.at(-1)?.push(token);
    else if ('op' in token && (token.op === '&&' || token.op === ';')) commands.push([]);
    else return undefined;
  }
  return commands.filter((c) => c.length > 0);
}

/** Where the tool's own arguments start in a simple command (past `VAR=x` and `cross-env`). */
function toolIndex(words: Words): number {
  let i = 0;
  while (i < words.length && (ASSIGNMENT.test(words[i] ?? '') || words[i] === 'cross-env')) i++;
  return i;
}

/** The arguments without the options the framework's port arguments replace, and `--open`. */
function withoutPortOptions(args: Words, fw: Framework): { args: Words; changed: boolean } {
  const kept: Words = [];
  let changed = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    const [flag] = arg.split('=');
    if (fw.replaced.includes(flag ?? '')) {
      changed = true;
      if (!arg.includes('=') && args[i + 1] !== undefined && !args[i + 1]?.startsWith('-')) i++;
    } else if (fw.dropped.includes(arg)) {
      changed = true;
      if (arg.endsWith('open') && args[i + 1]?.startsWith('/')) i++;
    } else kept.push(arg);
  }
  return { args: kept, changed };
}

/** The command that runs a package's server script on $PORT, with what init guessed on the way. */
export function planServer(pm: PackageManager, pkg: NodePackage, chosen: string): ServerPlan {
  const { script, body } = resolve(pkg, chosen);
  const framework = frameworkOf(body, pkg.deps);
  const notes: string[] = [];
  const problems: string[] = [];
  const via = script === chosen ? `"${script}"` : `"${chosen}" (which runs "${script}")`;
  let run = pm.run(script);
  const tools = framework ? TOOL_WORDS[framework.id] : undefined;
  let autoPort: CodePort | undefined;
  if (!tools && pkg.codePort) {
    autoPort = pkg.codePort;
    notes.push(
      `package.json's ${via} script runs ${framework?.label ?? 'a server'} that listens on :${autoPort.port}, written in ${path.posix.join(pkg.dir, autoPort.file)} (its code reads no PORT).`,
      `Its port is "auto": Hive adopts the port it listens on, so one cell at a time can run it. To run several, make it listen on process.env.PORT and remove "ports".`,
    );
  } else if (!framework) {
    notes.push(`package.json's ${via} script; no framework recognised: it must listen on PORT.`);
  } else if (!tools) {
    notes.push(`package.json's ${via} script runs ${framework.label}: it gets the port as PORT.`);
  } else {
    const commands = simpleCommands(body);
    const at = commands?.findIndex((c) => tools.includes(c[toolIndex(c)] ?? '')) ?? -1;
    const command = commands?.[at];
    const start = command ? toolIndex(command) : 0;
    const stripped = command ? withoutPortOptions(command.slice(start + 1), framework) : undefined;
    if (!commands || !command || !stripped) {
      problems.push(
        `package.json's ${via} script is not one plain ${framework.label} command: make it listen on $PORT (${framework.portArgs.join(' ')}).`,
      );
    } else if (!stripped.changed && framework.readsPort) {
      notes.push(`package.json's ${via} script runs ${framework.label}, which reads PORT.`);
    } else if (!stripped.changed && at === commands.length - 1) {
      run = pm.run(script, framework.portArgs);
      notes.push(
        `package.json's ${via} script runs ${framework.label}, which reads no PORT: the port goes as ${framework.portArgs[0]}.`,
      );
    } else if (commands.length === 1) {
      // The script names a port (or opens a browser): run its tool directly, the package
      // manager's own way, with the cell's port instead.
      const assignments = command.slice(0, start).filter((w) => w !== 'cross-env');
      const tool = command[start] ?? '';
      const args = [...stripped.args.map(shellWord), ...framework.portArgs];
      const exec = tool === 'deno' ? ['deno', ...args].join(' ') : pm.exec(tool, args);
      run = [
        ...(assignments.length
          ? [
              assignments
                .map((a) =>
                  a.replace(/^([A-Za-z_]\w*=)([\s\S]*)$/, (_, k: string, v: string) => k + shellWord(v)),
                )
                .join(' '),
            ]
          : []),
        exec,
      ].join(' ');
      notes.push(
        `package.json's ${via} script runs ${framework.label} with its own port or --open; run here as the same command on the cell's port.`,
      );
    } else {
      problems.push(
        `package.json's ${via} script names its own port among several commands: give ${framework.label} $PORT (${framework.portArgs.join(' ')}).`,
      );
    }
  }
  let build: string | undefined;
  if (SERVES_BUILD.test(body) && !/\bbuild\b/.test(body)) {
    if (pkg.scripts.build !== undefined) {
      build = pm.run('build');
      notes.push(`"${script}" serves built output: "build" runs first.`);
    } else problems.push(`"${script}" serves built output, and the package has no "build" script.`);
  }
  const http = Boolean(framework?.web && (framework.id !== 'vite' || pkg.indexHtml));
  return { script: chosen, body, framework, run, build, http, autoPort, notes, problems };
}
