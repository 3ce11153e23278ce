// Which package.json script a command runs (`npm run dev`, `pnpm dev`, `yarn run build`, `npm start`),
// read from its words (commandsOf) without running it: the dry run checks the script exists.

/** A script a simple command runs. */
export interface ScriptRun {
  tool: string;
  script: string;
  /**
   * Whether only a script will do. `npm run x` fails without script x; `yarn x`, `pnpm x` and
   * `bun run x` fall back to a binary of node_modules/.bin (or a file), unknowable before install.
   */
  scriptOnly: boolean;
  /** What runs instead when there is no such script (`npm start` runs `node server.js`). */
  fallbackFile?: string;
}

const NPM_RUN = new Set(['run', 'run-script', 'rum', 'urn']);
const NPM_TEST = new Set(['test', 't', 'tst']);
/** pnpm's own commands (and aliases): `pnpm <one of these>` is not a script. */
const PNPM_COMMANDS = new Set(
  (
    'add approve-builds audit bin c cache cat-file cat-index ci config create dedupe deploy dist-tag ' +
    'dlx docs doctor env exec fetch find-hash help home i ignored-builds import info init install ' +
    'install-test it la licenses link list ll ln login logout ls m multi outdated owner pack patch ' +
    'patch-commit patch-remove ping prune publish rb rebuild recursive remove repo rm root run ' +
    'run-script search self-update server setup store un uninstall unlink up update upgrade version ' +
    'view whoami why x'
  ).split(' '),
);
/** yarn's own commands (classic and berry): `yarn <one of these>` is not a script. */
const YARN_COMMANDS = new Set(
  (
    'access add audit autoclean bin cache check config constraints create dedupe dlx exec explain ' +
    'generate-lock-entry global help import info init install licenses link list login logout node ' +
    'npm outdated owner pack patch patch-commit plugin policies publish rebuild remove run search ' +
    'set stage tag team unlink unplug up upgrade upgrade-interactive version versions why workspace ' +
    'workspaces'
  ).split(' '),
);
/** Options that do not change which package or script runs. */
const QUIET = new Set(['-s', '--silent', '-q', '--quiet']);

/** Options that run another package's scripts (npm takes them after the script name too). */
const ELSEWHERE = /^(-w|-ws|--workspaces?|--prefix|-C|--dir|--cwd|-F|--filter|-r|--recursive)(=|$)/;

/** The script after `run`: undefined when an option could change what runs, or when it may be absent. */
function scriptAfterRun(args: string[]): string | undefined {
  const own = args.includes('--') ? args.slice(0, args.indexOf('--')) : args;
  if (own.includes('--if-present') || own.some((arg) => ELSEWHERE.test(arg))) return undefined;
  for (const arg of own) {
    if (!arg.startsWith('-')) return arg;
    // Other options before the name may take a value (`--loglevel x`): not guessed at.
    if (!QUIET.has(arg)) return undefined;
  }
  return undefined; // `npm run` alone lists the scripts
}

/** The script a simple command (its words, program first) runs, if it runs one. */
export function scriptRunOf(words: string[]): ScriptRun | undefined {
  const [tool = '', sub, ...rest] = words;
  const run = (script: string | undefined, scriptOnly: boolean, fallbackFile?: string) =>
    // A script named by an expansion is known only at run time.
    script === undefined || /[$`]/.test(script) ? undefined : { tool, script, scriptOnly, fallbackFile };
  if (sub === undefined || sub.startsWith('-')) return undefined;
  switch (tool) {
    case 'npm':
      if (NPM_RUN.has(sub)) return run(scriptAfterRun(rest), true);
      if (sub === 'start') return run('start', true, 'server.js');
      return NPM_TEST.has(sub) ? run('test', true) : undefined;
    case 'pnpm':
      if (sub === 'run' || sub === 'run-script') return run(scriptAfterRun(rest), true);
      if (sub === 'start') return run('start', true, 'server.js');
      if (sub === 'test' || sub === 't') return run('test', true);
      return PNPM_COMMANDS.has(sub) ? undefined : run(sub, false);
    case 'yarn':
      if (sub === 'run') return run(scriptAfterRun(rest), false);
      return YARN_COMMANDS.has(sub) ? undefined : run(sub, false);
    case 'bun': {
      if (sub !== 'run') return undefined;
      const script = scriptAfterRun(rest);
      // `bun run src/index.ts` runs a file.
      return script && !script.includes('/') && !/\.[cm]?[jt]sx?$/.test(script)
        ? run(script, false)
        : undefined;
    }
    default:
      return undefined;
  }
}
