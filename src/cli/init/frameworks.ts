// The web frameworks and servers init knows, and how each is told the cell's port, as its own docs
// say:
// - Vite (`vite`, `vite dev|serve|preview`; SvelteKit's dev server is Vite's): reads no PORT, takes
//   `--port`, `--strictPort` (fail rather than take another port) and `--host`; its default host
//   `localhost` may resolve to ::1 only, and Hive probes 127.0.0.1, hence `--host 127.0.0.1`.
// - Remix (`remix vite:dev`) and React Router 7 (`react-router dev`) are Vite underneath: the same.
// - Astro (`astro dev|preview`): `--port`, `--host`.
// - Next.js (`next dev|start`): `-p`, and PORT when there is none.
// - Nuxt (`nuxt|nuxi dev`): `--port`, and PORT (after NUXT_PORT, NITRO_PORT) when there is none.
// - Angular (`ng serve`) and webpack-dev-server (`webpack serve`): `--port`, `--host`.
// - `deno serve`: `--port`.
// - NestJS, Express, Fastify, Hono, Koa, `Bun.serve` (reads BUN_PORT, then PORT) and plain Node
//   servers: PORT, by convention (Nest's starter reads process.env.PORT).

export type FrameworkId =
  | 'vite'
  | 'sveltekit'
  | 'remix'
  | 'react-router'
  | 'astro'
  | 'next'
  | 'nuxt'
  | 'angular'
  | 'webpack'
  | 'deno'
  | 'nest'
  | 'express'
  | 'fastify'
  | 'hono'
  | 'koa'
  | 'bun'
  | 'node';

export interface Framework {
  id: FrameworkId;
  label: string;
  /** Arguments that give it the cell's port (and a loopback host), for its own CLI. */
  portArgs: string[];
  /** It reads PORT from its environment: nothing to add while the script names no port. */
  readsPort: boolean;
  /** It serves a page at `/` (an HTTP readiness probe fits); an API's `/` may well be a 404. */
  web: boolean;
  /** Options of its CLI that take a value and are replaced (a hard-coded port, a host). */
  replaced: string[];
  /** Options without a value that are dropped (`--open` would start a browser on the host). */
  dropped: string[];
}

const VITE_ARGS = ['--port', '$PORT', '--strictPort', '--host', '127.0.0.1'];
const viteLike = (id: FrameworkId, label: string): Framework => ({
  id,
  label,
  portArgs: VITE_ARGS,
  readsPort: false,
  web: true,
  replaced: ['--port', '--host'],
  dropped: ['--open', '--strictPort'],
});
const envServer = (id: FrameworkId, label: string): Framework => ({
  id,
  label,
  portArgs: [],
  readsPort: true,
  web: false,
  replaced: [],
  dropped: [],
});

export const FRAMEWORKS: Record<FrameworkId, Framework> = {
  vite: viteLike('vite', 'Vite'),
  sveltekit: viteLike('sveltekit', 'SvelteKit (Vite)'),
  remix: viteLike('remix', 'Remix (Vite)'),
  'react-router': viteLike('react-router', 'React Router (Vite)'),
  astro: {
    id: 'astro',
    label: 'Astro',
    portArgs: ['--port', '$PORT', '--host', '127.0.0.1'],
    readsPort: false,
    web: true,
    replaced: ['--port', '--host'],
    dropped: ['--open'],
  },
  next: {
    id: 'next',
    label: 'Next.js',
    portArgs: ['-p', '$PORT'],
    readsPort: true,
    web: true,
    replaced: ['-p', '--port'],
    dropped: [],
  },
  nuxt: {
    id: 'nuxt',
    label: 'Nuxt',
    portArgs: ['--port', '$PORT'],
    readsPort: true,
    web: true,
    replaced: ['-p', '--port'],
    dropped: ['-o', '--open'],
  },
  angular: {
    id: 'angular',
    label: 'Angular',
    portArgs: ['--port', '$PORT', '--host', '127.0.0.1'],
    readsPort: false,
    web: true,
    replaced: ['--port', '--host'],
    dropped: ['-o', '--open'],
  },
  webpack: {
    id: 'webpack',
    label: 'webpack-dev-server',
    portArgs: ['--port', '$PORT', '--host', '127.0.0.1'],
    readsPort: false,
    web: true,
    replaced: ['--port', '--host'],
    dropped: ['--open'],
  },
  deno: {
    id: 'deno',
    label: 'deno serve',
    portArgs: ['--port', '$PORT'],
    readsPort: false,
    web: false,
    replaced: ['--port'],
    dropped: [],
  },
  nest: envServer('nest', 'NestJS'),
  express: envServer('express', 'Express'),
  fastify: envServer('fastify', 'Fastify'),
  hono: envServer('hono', 'Hono'),
  koa: envServer('koa', 'Koa'),
  bun: envServer('bun', 'Bun server'),
  node: envServer('node', 'Node server'),
};

/** The framework a script's own command names, by the tool it runs. */
const BY_SCRIPT: Array<[RegExp, FrameworkId]> = [
  [/\breact-router\s+dev\b/, 'react-router'],
  [/\bremix\s+vite:(dev|preview)\b/, 'remix'],
  [/\bastro\s+(dev|preview|start)\b/, 'astro'],
  [/\bnext\s+(dev|start)\b/, 'next'],
  [/\b(nuxt|nuxi)\s+(dev|preview|start)\b/, 'nuxt'],
  [/\bng\s+serve\b/, 'angular'],
  [/\b(webpack\s+serve|webpack-dev-server)\b/, 'webpack'],
  [/\bdeno\s+serve\b/, 'deno'],
  [/\bvite(\s+(dev|serve|preview)\b|\s+-|\s*$|\s*[;&|])/, 'vite'],
  [/\bnest\s+start\b/, 'nest'],
];

/** Server frameworks known by a dependency, when the script runs a plain runtime (node, tsx, bun…). */
const BY_DEPENDENCY: Array<[string, FrameworkId]> = [
  ['@nestjs/core', 'nest'],
  ['fastify', 'fastify'],
  ['hono', 'hono'],
  ['express', 'express'],
  ['koa', 'koa'],
];

const RUNTIME = /\b(node|nodemon|tsx|ts-node|ts-node-dev|bun|deno)\b/;

/** The framework a script runs, from its text and the package's dependencies; undefined: none known. */
export function frameworkOf(script: string, deps: Set<string>): Framework | undefined {
  for (const [pattern, id] of BY_SCRIPT) {
    if (!pattern.test(script)) continue;
    if (id === 'vite' && deps.has('@sveltejs/kit')) return FRAMEWORKS.sveltekit;
    return FRAMEWORKS[id];
  }
  if (!RUNTIME.test(script)) return undefined;
  for (const [dep, id] of BY_DEPENDENCY) if (deps.has(dep)) return FRAMEWORKS[id];
  if (/\bbun\b/.test(script)) return FRAMEWORKS.bun;
  return FRAMEWORKS.node;
}

/** Whether a package depends on a framework init knows (a runnable app, in a monorepo). */
export function hasFrameworkDependency(deps: Set<string>): boolean {
  return [
    'vite',
    'next',
    'nuxt',
    'astro',
    '@sveltejs/kit',
    '@remix-run/dev',
    '@react-router/dev',
    '@angular/core',
    'webpack-dev-server',
    ...BY_DEPENDENCY.map(([dep]) => dep),
  ].some((d) => deps.has(d));
}
