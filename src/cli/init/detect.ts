import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';

// What `hive init` learns from a repository, read only from its files: the package manager and its
// lockfile, package.json scripts, docker-compose services and ports, `.env*` files and a Procfile.

export type PackageManagerName = 'npm' | 'pnpm' | 'yarn' | 'bun';

export interface PackageManager {
  name: PackageManagerName;
  lockfile?: string;
  /** The install command for a fresh worktree: reproducible from the lockfile when there is one. */
  install: string;
  /** How a package.json script is run. */
  run: (script: string) => string;
}

export interface ComposePort {
  /** The port on the host, when the file publishes one. */
  published?: number;
  /** The port inside the container. */
  target: number;
}

export interface ComposeService {
  name: string;
  image?: string;
  /** Built from the repository (`build:`), rather than a published image. */
  build: boolean;
  command?: string;
  ports: ComposePort[];
  environment: Record<string, string>;
  dependsOn: string[];
}

export interface RepoFacts {
  root: string;
  packageJson?: { name?: string; scripts: Record<string, string>; nodeEngine?: string; dependencies: number };
  packageManager?: PackageManager;
  compose?: { file: string; services: ComposeService[] };
  procfile?: Array<{ name: string; command: string }>;
  envFiles: string[];
}

const exists = async (file: string) => Boolean(await stat(file).catch(() => undefined));

const LOCKFILES: Array<[string, PackageManagerName]> = [
  ['pnpm-lock.yaml', 'pnpm'],
  ['yarn.lock', 'yarn'],
  ['bun.lock', 'bun'],
  ['bun.lockb', 'bun'],
  ['package-lock.json', 'npm'],
  ['npm-shrinkwrap.json', 'npm'],
];

/** The package manager: package.json's `packageManager` field, else the lockfile, else npm. */
async function detectPackageManager(root: string, declared: string | undefined): Promise<PackageManager> {
  let lockfile: string | undefined;
  let name: PackageManagerName | undefined;
  for (const [file, manager] of LOCKFILES) {
    if (await exists(path.join(root, file))) {
      lockfile = file;
      name = manager;
      break;
    }
  }
  const fromField = declared?.split('@')[0];
  if (fromField === 'npm' || fromField === 'pnpm' || fromField === 'yarn' || fromField === 'bun')
    name = fromField;
  name ??= 'npm';
  const locked = lockfile !== undefined;
  // Yarn 2+ (a .yarnrc.yml, or packageManager yarn@2+) spells "frozen lockfile" differently.
  const berry = (await exists(path.join(root, '.yarnrc.yml'))) || /^yarn@[2-9]/.test(declared ?? '');
  const install = {
    npm: locked ? 'npm ci --no-audit --no-fund' : 'npm install --no-audit --no-fund',
    pnpm: locked ? 'pnpm install --frozen-lockfile' : 'pnpm install',
    yarn: locked ? (berry ? 'yarn install --immutable' : 'yarn install --frozen-lockfile') : 'yarn install',
    bun: locked ? 'bun install --frozen-lockfile' : 'bun install',
  }[name];
  const run = (script: string) => (name === 'npm' ? `npm run ${script}` : `${name} run ${script}`);
  return { name, lockfile, install, run };
}

const asText = (v: unknown) =>
  typeof v === 'string' ? v : Array.isArray(v) ? v.map(String).join(' ') : undefined;

/** `"8080:80"`, `"127.0.0.1:5432:5432/tcp"`, `5432`, `{ target, published }`. */
function composePorts(value: unknown): ComposePort[] {
  if (!Array.isArray(value)) return [];
  return value.flatMap((entry): ComposePort[] => {
    if (typeof entry === 'number') return [{ target: entry }];
    if (entry && typeof entry === 'object') {
      const { target, published } = entry as { target?: unknown; published?: unknown };
      const t = Number(target);
      return Number.isInteger(t) ? [{ target: t, published: Number(published) || undefined }] : [];
    }
    const parts = String(entry)
      .replace(/\/\w+$/, '')
      .split(':');
    const target = Number(parts.at(-1)?.split('-')[0]);
    const published = parts.length > 1 ? Number(parts.at(-2)?.split('-')[0]) : undefined;
    return Number.isInteger(target) ? [{ target, published: published || undefined }] : [];
  });
}

function composeEnvironment(value: unknown): Record<string, string> {
  if (Array.isArray(value)) {
    return Object.fromEntries(
      value
        .map(String)
        .map((kv) => [kv.split('=')[0] ?? kv, kv.includes('=') ? kv.slice(kv.indexOf('=') + 1) : '']),
    );
  }
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, v === null ? '' : String(v)]));
  }
  return {};
}

const COMPOSE_FILES = ['compose.yaml', 'compose.yml', 'docker-compose.yml', 'docker-compose.yaml'];

async function detectCompose(root: string): Promise<RepoFacts['compose']> {
  for (const file of COMPOSE_FILES) {
    const text = await readFile(path.join(root, file), 'utf8').catch(() => undefined);
    if (text === undefined) continue;
    const doc = (parseYaml(text) ?? {}) as { services?: Record<string, Record<string, unknown>> };
    const services = Object.entries(doc.services ?? {}).map(([name, s]) => ({
      name,
      image: typeof s.image === 'string' ? s.image : undefined,
      build: s.build !== undefined,
      command: asText(s.command),
      ports: composePorts(s.ports),
      environment: composeEnvironment(s.environment),
      dependsOn: Array.isArray(s.depends_on)
        ? s.depends_on.map(String)
        : Object.keys((s.depends_on as Record<string, unknown> | undefined) ?? {}),
    }));
    return { file, services };
  }
  return undefined;
}

async function detectProcfile(root: string): Promise<RepoFacts['procfile']> {
  const text = await readFile(path.join(root, 'Procfile'), 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  return text
    .split('\n')
    .map((line) => /^([A-Za-z0-9_-]+):\s*(.+)$/.exec(line.trim()))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ name: m[1] ?? '', command: (m[2] ?? '').trim() }));
}

/** Everything init needs to know about the repository at `root`. */
export async function detectRepo(root: string): Promise<RepoFacts> {
  const facts: RepoFacts = { root, envFiles: [] };
  const pkgText = await readFile(path.join(root, 'package.json'), 'utf8').catch(() => undefined);
  if (pkgText !== undefined) {
    const pkg = JSON.parse(pkgText) as {
      name?: string;
      scripts?: Record<string, string>;
      engines?: { node?: string };
      packageManager?: string;
      dependencies?: object;
      devDependencies?: object;
    };
    facts.packageJson = {
      name: pkg.name,
      scripts: pkg.scripts ?? {},
      nodeEngine: pkg.engines?.node,
      dependencies:
        Object.keys(pkg.dependencies ?? {}).length + Object.keys(pkg.devDependencies ?? {}).length,
    };
    facts.packageManager = await detectPackageManager(root, pkg.packageManager);
  }
  facts.compose = await detectCompose(root);
  facts.procfile = await detectProcfile(root);
  facts.envFiles = (await readdir(root, { withFileTypes: true }))
    .filter((e) => e.isFile() && /^\.env(\..+)?$/.test(e.name))
    .map((e) => e.name)
    .sort();
  return facts;
}
