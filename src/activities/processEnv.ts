import path from 'node:path';
import { packageRoot } from '../config/paths.js';

// What a cell's processes (services, setup, seeds, installs, teardown, probes) get of Hive's own
// environment: only the host's basics, named here. Hive's environment holds its own settings
// (HIVE_*, DATABASE_URL of the control plane, TEMPORAL_*), `npm start`'s npm_* variables and any
// secret meant for another workspace or template; none of it is a cell's business. A template that
// needs one of Hive's variables names it as a secret (`{ secret: 'env:NAME' }`), which resolves it
// for that cell alone.

/** Variables passed through as they are. */
const PASSED = new Set([
  'PATH',
  'HOME',
  'USER',
  'LOGNAME',
  'SHELL',
  'LANG',
  'LANGUAGE',
  'TERM',
  'COLORTERM',
  'TZ',
  'TMPDIR',
  // Where the host's toolchains keep their caches and installs (Go, Rust, pnpm, bun, Corepack).
  'GOPATH',
  'GOMODCACHE',
  'GOCACHE',
  'GOPROXY',
  'CARGO_HOME',
  'RUSTUP_HOME',
  'PNPM_HOME',
  'BUN_INSTALL',
  'COREPACK_HOME',
  // The host's network and certificates: installs go through them.
  'HTTP_PROXY',
  'HTTPS_PROXY',
  'NO_PROXY',
  'http_proxy',
  'https_proxy',
  'no_proxy',
  'SSL_CERT_FILE',
  'SSL_CERT_DIR',
  'NODE_EXTRA_CA_CERTS',
]);

/** Variable families passed through: locale settings and the XDG base directories. */
const PASSED_PREFIXES = ['LC_', 'XDG_'];

/**
 * PATH without the folders `npm start` put in front of it for Hive itself (its node_modules/.bin,
 * npm's node-gyp-bin): a cell runs its own tools, not Hive's.
 */
function hostPath(value: string): string {
  const own = path.join(packageRoot, 'node_modules');
  return value
    .split(path.delimiter)
    .filter((dir) => dir && !dir.startsWith(own) && !/[\\/]npm[\\/].*node-gyp-bin$/.test(dir))
    .join(path.delimiter);
}

/** The variable in which a host's operator names more of Hive's variables to pass (docs/security.md). */
export const PASS_ENV_VAR = 'HIVE_PASS_ENV';

/** A `HIVE_PASS_ENV` entry: a variable name, or a prefix ending in `*`. */
export const PASS_ENV_ENTRY = /^[A-Za-z_][A-Za-z0-9_]*\*?$/;

/**
 * What the host's operator adds to the allow-list (`HIVE_PASS_ENV=CYPRESS_INSTALL_BINARY,PRISMA_*`):
 * settings every cell's installs and tools need on this host, that no template should have to name.
 */
function operatorPassed(source: NodeJS.ProcessEnv): (name: string) => boolean {
  const entries = (source[PASS_ENV_VAR] ?? '')
    .split(',')
    .map((e) => e.trim())
    .filter((e) => PASS_ENV_ENTRY.test(e) && !e.startsWith('HIVE_'));
  return (name) =>
    !name.startsWith('HIVE_') &&
    entries.some((e) => (e.endsWith('*') ? name.startsWith(e.slice(0, -1)) : name === e));
}

/** The environment every process of a cell starts from, before the cell's own variables. */
export function processEnvironment(source: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const env: Record<string, string> = {};
  const extra = operatorPassed(source);
  for (const [name, value] of Object.entries(source)) {
    if (value === undefined) continue;
    if (PASSED.has(name) || PASSED_PREFIXES.some((prefix) => name.startsWith(prefix)) || extra(name))
      env[name] = value;
  }
  if (env.PATH !== undefined) env.PATH = hostPath(env.PATH);
  return env;
}
