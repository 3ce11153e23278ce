import { readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { detectRepo } from '../src/cli/init/detect.js';
import { draftConfig } from '../src/cli/init/draft.js';
import { parseJsonc } from '../src/templates/jsonc.js';
import { hive } from './support/cli.js';
import { createGitRepo } from './support/gitRepo.js';

// `hive init` on small real repositories shaped like public ones (a real git repo, the real CLI as
// a child process): what it writes for the frameworks, package managers, monorepos, compose files,
// Procfiles, Go modules and other tools' configs it meets (read by init's own detection and draft,
// in-process, as `hive init --print` runs them), and the CLI's verdict when what it wrote cannot
// work. Running what it writes is init.cells.test.ts's job.

// `hive init` needs no API: nothing listens here.
const NO_API = 'http://127.0.0.1:9';
const json = (value: unknown) => JSON.stringify(value, null, 2);

/** What `hive init --print` prints for a repository of these files (this host: PostgreSQL, no Redis). */
async function initPrint(files: Record<string, string>) {
  const dir = await createGitRepo({ 'README.md': '# demo\n', ...files });
  return draftConfig(await detectRepo(dir), { postgres: true, redis: false }).source;
}

/** A service's block of the written config, with the comment lines above it. */
const block = (config: string, name: string) => {
  const lines = config.split('\n');
  const at = lines.findIndex((l) => new RegExp(`^ {8}(// )?"${name}": \\{`).test(l));
  expect(at, `no service ${name} in:\n${config}`).toBeGreaterThan(-1);
  let start = at;
  while (
    start > 0 &&
    /^ {8}\/\/ /.test(lines[start - 1] ?? '') &&
    !/^ {8}\/\/ {3}|\/\/ \},?$/.test(lines[start - 1] ?? '')
  )
    start--;
  const end = lines.findIndex((l, i) => i > at && /^ {8}(\/\/ )?\},?$/.test(l));
  return lines.slice(start, end + 1).join('\n');
};

describe('hive init: frameworks, package managers and monorepos', () => {
  it('a pnpm + turbo monorepo: one service per app package in its folder, the port the tool’s own way, never a literal --', async () => {
    const config = await initPrint({
      'package.json': json({
        name: 'mono',
        private: true,
        packageManager: 'pnpm@10.11.0',
        scripts: { dev: 'turbo watch dev', build: 'turbo build' },
      }),
      'pnpm-lock.yaml': "lockfileVersion: '9.0'\n",
      'pnpm-workspace.yaml': 'packages:\n  - apps/*\n  - packages/*\n',
      'turbo.json': json({ tasks: { dev: { persistent: true, cache: false } } }),
      'apps/web/package.json': json({
        name: 'web',
        scripts: { dev: 'vite --port 3333 --open', build: 'vite build' },
        devDependencies: { vite: '^6.0.0' },
      }),
      'apps/web/index.html': '<!doctype html>\n',
      'apps/api/package.json': json({
        name: 'api',
        scripts: { build: 'nest build', 'start:dev': 'nest start --watch', 'start:prod': 'node dist/main' },
        dependencies: { '@nestjs/core': '^11.0.0' },
      }),
      'packages/ui/package.json': json({ name: 'ui', scripts: { dev: 'tsc -w', build: 'tsc' } }),
    });
    const web = block(config, 'web');
    expect(web).toContain('"run": "pnpm exec vite --port $PORT --strictPort --host 127.0.0.1"');
    expect(web).toContain('"cwd": "apps/web"');
    expect(web).toMatch(/"readiness": \{\s+"type": "http",\s+"path": "\/"/);
    const api = block(config, 'api');
    expect(api).toContain('"run": "pnpm run start:dev"');
    expect(api).toContain('"cwd": "apps/api"');
    // An API's / may be a 404: Hive's default (the port accepts connections), no HTTP probe.
    expect(api).not.toContain('readiness');
    expect(config).not.toMatch(/"ui": \{/);
    expect(config).not.toMatch(/"run": "[^"]*\s--\s/);
    expect(config).not.toMatch(/"run": "[^"\n]*(3333|--open|turbo)/);
    // The install as the cached dependency set, with each package's own node_modules.
    expect(config).toMatch(/"dependencies": \[\s+\{\s+"key": \["pnpm-lock\.yaml"\],/);
    expect(config).toContain('"apps/web/node_modules"');
    expect(config).toContain('"install": "pnpm install --frozen-lockfile"');
    expect(config).not.toMatch(/"setup": \["pnpm install/);
  });

  it('an nx workspace whose apps have a project.json and no package.json: the root server script runs as the one service', async () => {
    const files = {
      'package.json': json({
        name: 'express-prisma-nx',
        private: true,
        scripts: { start: 'nx serve', build: 'nx build', test: 'nx test' },
        dependencies: { express: '^4.18.0', '@prisma/client': '^5.0.0' },
        devDependencies: { nx: '19.0.0', prisma: '^5.0.0' },
      }),
      'package-lock.json': json({ lockfileVersion: 3, packages: {} }),
      'nx.json': json({ defaultProject: 'api' }),
      'apps/api/project.json': json({ name: 'api', targets: { serve: { executor: '@nx/js:node' } } }),
      'apps/api/src/main.ts': 'import express from "express";\nexpress().listen(process.env.PORT ?? 3333);\n',
    };
    const dir = await createGitRepo({ 'README.md': '# demo\n', ...files });
    const draft = draftConfig(await detectRepo(dir), { postgres: true, redis: false });
    expect(draft.detected.join('\n')).toMatch(/nx.*no packages/);
    expect(draft.hasServer).toBe(true);
    expect(draft.appServices).toBe(1);
    expect(draft.problems).toEqual([]);
    const web = block(draft.source, 'web');
    expect(web).toContain('"run": "npm run start"');
    expect(web).toMatch(/No app package found .*"start" runs the server instead/);
  });

  it('each package manager passes the port its own way: npm with --, yarn and bun without, tools run with exec', async () => {
    const next = await initPrint({
      'package.json': json({ name: 'n', scripts: { dev: 'next dev -p 3001' }, dependencies: { next: '15' } }),
      'package-lock.json': json({ lockfileVersion: 3, packages: {} }),
    });
    expect(next).toContain('"run": "npx --no-install next dev -p $PORT"');
    const npmVite = await initPrint({
      'package.json': json({ name: 'v', scripts: { dev: 'vite' }, devDependencies: { vite: '6' } }),
    });
    expect(npmVite).toContain('"run": "npm run dev -- --port $PORT --strictPort --host 127.0.0.1"');
    const yarnAstro = await initPrint({
      'package.json': json({ name: 'a', scripts: { dev: 'astro dev' }, dependencies: { astro: '5' } }),
      'yarn.lock': '# yarn lockfile v1\n',
    });
    expect(yarnAstro).toContain('"run": "yarn run dev --port $PORT --host 127.0.0.1"');
    const bunVite = await initPrint({
      'package.json': json({
        name: 'b',
        scripts: { dev: 'vite --port 8080' },
        devDependencies: { vite: '6' },
      }),
      'bun.lock': '{}\n',
    });
    expect(bunVite).toContain('"run": "bun x vite --port $PORT --strictPort --host 127.0.0.1"');
    // Next reads PORT: its plain script runs as it is; Nuxt too.
    const nuxt = await initPrint({
      'package.json': json({
        name: 'x',
        scripts: { dev: 'nuxt dev', build: 'nuxt build' },
        devDependencies: { nuxt: '3' },
      }),
    });
    expect(nuxt).toContain('"run": "npm run dev"');
  });

  it('finds the server among all scripts, a dev server before a production one, with the build a served app needs', async () => {
    const nest = await initPrint({
      'package.json': json({
        name: 'nest',
        scripts: { build: 'nest build', 'start:dev': 'nest start --watch', 'start:prod': 'node dist/main' },
        dependencies: { '@nestjs/core': '11' },
      }),
    });
    expect(nest).toContain('"run": "npm run start:dev"');
    const prodOnly = await initPrint({
      'package.json': json({
        name: 'p',
        scripts: { build: 'tsc', start: 'node dist/main.js' },
        dependencies: { express: '5' },
      }),
    });
    expect(prodOnly).toContain('"run": "npm run start"');
    expect(prodOnly).toMatch(/"setup": \["npm run build"\]/);
  });

  it('a server whose port is written in its code (nest new, create-hono) gets an auto port; one that reads PORT keeps $PORT', async () => {
    const nestPkg = json({
      name: 'nest',
      scripts: { 'start:dev': 'nest start --watch' },
      dependencies: { '@nestjs/core': '11' },
    });
    const fixed = await initPrint({
      'package.json': nestPkg,
      'src/main.ts':
        'async function bootstrap() {\n  const app = await make();\n  await app.listen(3000);\n}\n',
      'src/app.service.ts': 'export const db = { port: 5432 };\n',
    });
    const web = block(fixed, 'web');
    expect(web).toMatch(/"ports": \{\s*"primary": "auto"\s*\}/);
    expect(web).toContain('listens on :3000, written in src/main.ts');
    const hono = await initPrint({
      'package.json': json({
        name: 'h',
        scripts: { dev: 'tsx watch src/index.ts' },
        dependencies: { hono: '4' },
      }),
      'src/index.ts': 'serve({\n  fetch: app.fetch,\n  port: 3000\n}, (info) => log(info.port))\n',
    });
    expect(block(hono, 'web')).toMatch(/"primary": "auto"/);
    const readsPort = await initPrint({
      'package.json': nestPkg,
      'src/main.ts': 'await app.listen(process.env.PORT ?? 3000);\n',
    });
    expect(block(readsPort, 'web')).not.toContain('"ports"');
    expect(block(readsPort, 'web')).toContain('gets the port as PORT');
  });
});

describe('hive init: compose, Procfile, Go and other tools', () => {
  it('labels compose services for what they are and never writes a container’s flags as a command', async () => {
    const config = await initPrint({
      'package.json': json({ name: 'site', scripts: { dev: 'node server.js' } }),
      'docker-compose.yml': `services:
  maildev:
    build: ./docker/maildev
    ports: ["1080:1080"]
  backend:
    build: ./backend
    command: uvicorn main:app --host 0.0.0.0 --port 8000
  traefik:
    image: traefik:v3.1
    command: --api.insecure=true --providers.docker
`,
      'docker/maildev/Dockerfile': 'FROM maildev/maildev:2.1.0\n',
      'backend/Dockerfile': 'FROM python:3.12-slim\n',
      'backend/requirements.txt': 'fastapi\n',
    });
    expect(config).not.toMatch(/run by/);
    expect(block(config, 'maildev')).toContain('FROM maildev/maildev');
    expect(block(config, 'backend')).toContain('a Python (requirements.txt) app');
    // Each is commented out: Hive runs processes, and none of these is a program of this host.
    for (const name of ['maildev', 'backend', 'traefik'])
      expect(config).toMatch(new RegExp(`// "${name}": \\{`));
    expect(config).not.toMatch(/"run": "(--api|uvicorn)/);
    expect(block(config, 'web')).toContain('"run": "npm run dev"');
  });

  it('a Procfile web gets the build its platform runs first; a Go binary is built by go build', async () => {
    const node = await initPrint({
      'package.json': json({ name: 'h', scripts: { build: 'tsc', 'start:prod': 'node dist/main.js' } }),
      Procfile: 'web: npm run start:prod\n',
    });
    expect(node).toMatch(/"setup": \["npm run build"\]/);
    expect(block(node, 'web')).toContain('"run": "npm run start:prod"');
    const go = await initPrint({
      'go.mod': 'module example.com/shop\n\ngo 1.22\n',
      'cmd/server/main.go':
        'package main\n\nimport (\n\t"net/http"\n\t"os"\n)\n\nfunc main() { http.ListenAndServe(":"+os.Getenv("PORT"), nil) }\n',
      Procfile: 'web: bin/server\n',
    });
    expect(go).toMatch(/"setup": \["go build -o bin\/server \.\/cmd\/server"\]/);
    expect(block(go, 'web')).toContain('"run": "bin/server"');
    const goRun = await initPrint({
      'go.mod': 'module example.com/api\n\ngo 1.22\n',
      'main.go':
        'package main\n\nimport (\n\t"net/http"\n\t"os"\n)\n\nfunc main() { http.ListenAndServe(":"+os.Getenv("PORT"), nil) }\n',
    });
    expect(block(goRun, 'web')).toContain('"run": "go run ."');
  });

  it("a Procfile naming a bare Go binary (heroku/go-getting-started): built into bin/ as Heroku's Go build does, run from there", async () => {
    const main =
      'package main\n\nimport (\n\t"net/http"\n\t"os"\n)\n\nfunc main() { http.ListenAndServe(":"+os.Getenv("PORT"), nil) }\n';
    const files = {
      'go.mod': 'module github.com/heroku/go-getting-started\n\ngo 1.22\n',
      'main.go': main,
      Procfile: 'web: go-getting-started\nworker: go-getting-started -worker --queue jobs\n',
    };
    const config = await initPrint(files);
    // One build for both processes; each runs the built binary with its own arguments.
    expect(config.match(/go build -o bin\/go-getting-started/g)).toHaveLength(1);
    expect(config).toMatch(/"setup": \["go build -o bin\/go-getting-started \."\]/);
    expect(block(config, 'web')).toContain('"run": "bin/go-getting-started"');
    expect(block(config, 'worker')).toContain('"run": "bin/go-getting-started -worker --queue jobs"');
    // A program this host has, or a file of the repository, is run as the Procfile says.
    const onPath = await initPrint({
      ...files,
      Procfile: 'web: sh -c "exec ./serve"\n',
      serve: '#!/bin/sh\n',
    });
    expect(block(onPath, 'web')).toContain('"run": "sh -c \\"exec ./serve\\""');
    expect(onPath).not.toContain('go build -o bin/');
    const script = await initPrint({ ...files, Procfile: 'web: serve --port $PORT\n', serve: '#!/bin/sh\n' });
    expect(block(script, 'web')).toContain('"run": "serve --port $PORT"');
    // The dry run passes: the binary it runs is the one setup builds.
    const dir = await createGitRepo({ 'README.md': '# demo\n', ...files });
    const result = await hive(NO_API, ['init', '-C', dir]);
    expect(result.exitCode, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toContain('dry run passed');
  });

  it("conductor.json's scripts become setup, a service on CONDUCTOR_PORT and teardown; .worktreeinclude replaces includePatterns", async () => {
    const config = await initPrint({
      'conductor.json': json({
        scripts: {
          setup: 'npm install && cp "$CONDUCTOR_ROOT_PATH/.env" .env',
          run: 'npm run dev -- --port $CONDUCTOR_PORT',
          archive: 'echo bye',
        },
      }),
      'package.json': json({ name: 'c', scripts: { dev: 'vite' }, devDependencies: { vite: '6' } }),
      '.worktreeinclude': '.env\n',
      '.env.local': 'A=1\n',
    });
    const app = block(config, 'app');
    expect(app).toContain('"run": "npm run dev -- --port $CONDUCTOR_PORT"');
    expect(app).toMatch(/"env": \{\s+"CONDUCTOR_PORT": "\$PORT"/);
    expect(config).toContain('export CONDUCTOR_ROOT_PATH=\\"$HIVE_WORKSPACE_DIR\\"');
    expect(config).toContain('"teardown": ["echo bye"]');
    expect(config).not.toContain('includePatterns');
  });

  it('a .env made from .env.example without the variables Hive sets', async () => {
    const config = await initPrint({
      'package.json': json({ name: 'e', scripts: { dev: 'node server.js' } }),
      '.env.example': 'PORT=3000\nDATABASE_URL=postgres://x\nAPI_KEY=\n',
      'docker-compose.yml': 'services:\n  db:\n    image: postgres:16\n',
    });
    const setup = (parseJsonc(config) as { templates: { default: { setup: string[] } } }).templates.default
      .setup[0];
    expect(setup).toMatch(
      /^test -e \.env \|\| sed -E '.*\(PORT\|.*DATABASE_\[A-Z0-9_\]\*.*' \.env\.example > \.env$/,
    );
  });
});

describe('hive init never calls a config that cannot work ready', () => {
  it('a repository with a server no service starts: exit 1, what is missing, no "dry run passed"', async () => {
    const dir = await createGitRepo({
      'go.mod': 'module example.com/fixed\n\ngo 1.22\n',
      // A server on a port of its own: Hive cannot give it the cell's.
      'main.go': 'package main\n\nimport "net/http"\n\nfunc main() { http.ListenAndServe(":8080", nil) }\n',
    });
    const result = await hive(NO_API, ['init', '-C', dir]);
    expect(result.exitCode).toBe(1);
    expect(result.stdout).not.toContain('dry run passed');
    expect(result.stdout).toContain('does not work yet');
    expect(result.stdout).toMatch(/does not read PORT/);
    // Written all the same, for the person to finish.
    expect(await readFile(path.join(dir, 'hive.config.jsonc'), 'utf8')).toContain('Not done yet');
  });

  it('writes hive.config.jsonc (never a .ts a TypeScript build would compile), refuses any existing config without --force', async () => {
    const dir = await createGitRepo({
      'package.json': json({ name: 'nest-starter', scripts: { 'start:dev': 'nest start --watch' } }),
      'tsconfig.json': json({ compilerOptions: { outDir: './dist' } }),
      'docker-compose.yml': 'services:\n  mq:\n    image: rabbitmq:3\n',
    });
    await writeFile(path.join(dir, 'hive.config.ts'), 'export default { templates: {} };\n');
    const refused = await hive(NO_API, ['init', '-C', dir]);
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toMatch(/hive\.config\.ts already exists.*--force/);
    const forced = await hive(NO_API, ['init', '-C', dir, '--force']);
    expect(forced.stdout).toContain('wrote');
    expect(forced.stdout).toContain('removed hive.config.ts');
    await expect(stat(path.join(dir, 'hive.config.ts'))).rejects.toThrow();
    const text = await readFile(path.join(dir, 'hive.config.jsonc'), 'utf8');
    expect(text).not.toMatch(/^import /m);
    // JSONC as Hive reads it, and an entry init wrote commented out is valid JSONC once uncommented.
    expect(Object.keys((parseJsonc(text) as { templates: object }).templates)).toEqual(['default']);
    const lines = text.split('\n');
    const from = lines.findIndex((l) => /^ {8}\/\/ "mq": \{$/.test(l));
    const to = lines.findIndex((l, i) => i > from && /^ {8}\/\/ \},?$/.test(l));
    expect(from, text).toBeGreaterThan(-1);
    const uncommented = lines
      .map((l, i) => (i >= from && i <= to ? l.replace(/^( {8})\/\/ /, '$1') : l))
      .join('\n');
    expect(parseJsonc(uncommented)).toMatchObject({ templates: { default: { services: { mq: {} } } } });
  });

  it('a dry run that fails: exit 1, the config kept, said not to work', async () => {
    const dir = await createGitRepo({ Procfile: 'web: hive-no-such-server --serve\n' });
    const result = await hive(NO_API, ['init', '-C', dir]);
    expect(result.exitCode).toBe(1);
    expect(result.stdout).not.toContain('dry run passed');
    expect(result.stdout).toContain('does not work yet');
    expect(result.stdout).toContain('hive-no-such-server');
    expect(await readFile(path.join(dir, 'hive.config.jsonc'), 'utf8')).toMatch(
      /^\/\/ hive init's dry run failed/,
    );
  });
});
