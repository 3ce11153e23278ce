import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CellDetail } from '../src/client/index.js';
import { hive, hiveOnTerminal, listen } from './support/cli.js';
import { createHarness, type Harness } from './support/harness.js';

// The `hive` command as a person and a script use it: a real API with a real worker on the shared
// Temporal dev server, the CLI as a child process, cells with a real HTTP service.

const server = `const http = require('node:http');
const port = Number(process.env.PORT);
http.createServer((req, res) => res.end('hello from ' + port)).listen(port, '127.0.0.1', () => {
  console.log('listening on ' + port);
});
`;

const config = {
  templates: {
    web: {
      label: 'Web app',
      services: { web: { run: 'node server.js', readiness: { type: 'http', path: '/' } } },
    },
    broken: {
      label: 'Setup that fails',
      setup: ['echo "installing the thing"; echo "thing not found" >&2; exit 3'],
    },
  },
};

/** An ANSI colour (SGR) sequence. */
const SGR = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`);

let h: Harness;
let url: string;

beforeAll(async () => {
  h = await createHarness('cli', { 'hive.config.json': JSON.stringify(config), 'server.js': server });
  url = await listen(h);
});
afterAll(async () => {
  await h?.close();
});

describe('hive cells and templates over the HTTP API', () => {
  let cell: CellDetail;

  it('lists workspaces and templates, and dry-runs one', async () => {
    const ls = await hive(url, ['templates', 'ls']);
    expect(ls.exitCode, ls.stderr).toBe(0);
    expect(ls.stdout).toMatch(/web\s+Web app\s+web/);
    const validate = await hive(url, ['templates', 'validate', 'web']);
    expect(validate.exitCode, validate.stdout).toBe(0);
    expect(validate.stdout).toContain('can be provisioned');
    const workspaces = await hive(url, ['workspaces', '--json']);
    expect(JSON.parse(workspaces.stdout)[0]).toMatchObject({ id: 'demo', configLoads: true });
  });

  it('create --json reaches ready and prints only the cell, with its service URLs', async () => {
    const result = await hive(url, ['cells', 'create', '-t', 'web', '-b', 'Add a health check', '--json']);
    expect(result.exitCode, result.stderr).toBe(0);
    cell = JSON.parse(result.stdout);
    expect(cell.status).toBe('ready');
    const web = cell.services.find((s) => s.name === 'web');
    expect(web?.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(await (await fetch(web?.url as string)).text()).toBe(`hello from ${web?.port}`);
  });

  it('exec runs argv in the worktree with the cell env: PORT is the allocated port', async () => {
    const port = cell.services[0]?.port;
    const printenv = await hive(url, [
      'cells',
      'exec',
      cell.id,
      '--',
      'printenv',
      'PORT',
      'WEB_PORT',
      'HIVE_CELL_ID',
    ]);
    expect(printenv.exitCode, printenv.stderr).toBe(0);
    expect(printenv.stdout.trim().split('\n')).toEqual([String(port), String(port), cell.id]);
    const pwd = await hive(url, ['cells', 'exec', cell.id, '--', 'pwd']);
    expect(pwd.stdout.trim()).toBe(cell.worktreePath);
    // No shell in between: a `$` reaches the program as it is, and the exit status comes back.
    const literal = await hive(url, [
      'cells',
      'exec',
      cell.id,
      '--',
      'node',
      '-e',
      'console.log(process.argv[1]); process.exit(7)',
      '$HOME;x',
    ]);
    expect(literal.stdout.trim()).toBe('$HOME;x');
    expect(literal.exitCode).toBe(7);
  });

  it('shell starts $SHELL in the worktree with the env', async () => {
    const result = await hive(url, ['cells', 'shell', cell.id], {
      env: { SHELL: '/bin/sh' },
    });
    // With no terminal on stdin, sh reads no commands and exits at once: it ran, in the right place.
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stderr).toContain(`Entering cell ${cell.id} in ${cell.worktreePath}`);
  });

  it('env prints dotenv lines and JSON; ls, show and logs read the cell', async () => {
    const env = await hive(url, ['cells', 'env', cell.id]);
    expect(env.stdout).toContain(`WEB_PORT=${cell.services[0]?.port}`);
    expect(env.stdout).toContain(`HIVE_CELL_ID=${cell.id}`);
    const json = JSON.parse((await hive(url, ['cells', 'env', cell.id, '--json'])).stdout);
    expect(json.variables).toContainEqual({
      name: 'WEB_PORT',
      value: String(cell.services[0]?.port),
      secret: false,
    });
    const file = await readFile(json.file, 'utf8');
    expect(file).toContain('WEB_URL=');

    const ls = await hive(url, ['cells', 'ls']);
    expect(ls.stdout).toMatch(new RegExp(`${cell.id}\\s+ready\\s+demo/web`));
    const show = await hive(url, ['cells', 'show', cell.id]);
    expect(show.stdout).toContain(cell.worktreePath as string);
    expect(show.stdout).toContain(`hive cells shell ${cell.id}`);
    expect(show.stdout).toMatch(/services\.web\.ready\s+succeeded/);
    const logs = await hive(url, ['cells', 'logs', cell.id, 'web']);
    expect(logs.stdout).toContain(`listening on ${cell.services[0]?.port}`);
  });

  it('restart and archive a cell', async () => {
    const restart = await hive(url, ['cells', 'restart', cell.id, 'web']);
    expect(restart.exitCode, restart.stderr).toBe(0);
    const archive = await hive(url, ['cells', 'archive', cell.id]);
    expect(archive.exitCode, archive.stdout + archive.stderr).toBe(0);
    expect(archive.stdout).toContain(`Cell ${cell.id} archived`);
  });

  it('piped, create follows with plain lines and no colour, ending with the summary', async () => {
    const result = await hive(url, ['cells', 'create', '-t', 'web', '-b', 'plain output']);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).not.toMatch(SGR);
    expect(result.stdout).toContain('step worktree succeeded');
    expect(result.stdout).toContain('status ready');
    expect(result.stdout).toMatch(/Cell c\w+ is ready/);
    expect(result.stdout).toMatch(/service web\s+http:\/\/127\.0\.0\.1:\d+/);
  });

  it('on a terminal, create shows every step live, then the summary', async () => {
    const result = await hiveOnTerminal(url, ['cells', 'create', '-t', 'web', '-b', 'live output']);
    expect(result.exitCode, result.text).toBe(0);
    for (const step of ['validate', 'worktree', 'ports', 'environment', 'services', 'web.ready', 'prompt']) {
      expect(result.text).toMatch(new RegExp(`✔\\s+${step.replace('.', '\\.')}\\s`));
    }
    expect(result.text).toMatch(/elapsed/);
    expect(result.text).toMatch(/Cell c\w+ is ready/);
    expect(result.text).toMatch(/hive cells shell c\w+/);
    expect(result.raw).toMatch(SGR); // colour on a TTY…
    const plain = await hiveOnTerminal(url, ['cells', 'ls'], { NO_COLOR: '1' });
    expect(plain.raw).not.toMatch(SGR); // …and none with NO_COLOR
  });

  it('a failure exits non-zero with the step, type, message, hint and log tail', async () => {
    const result = await hive(url, [
      'cells',
      'create',
      '-t',
      'broken',
      '-b',
      'will fail',
      '--on-failure',
      'rollback',
    ]);
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toMatch(/step environment \(SetupFailed\)/);
    expect(result.stdout).toContain('exited with code 3');
    expect(result.stdout).toContain('hint');
    expect(result.stdout).toContain('thing not found');
  });

  it('a refused request prints the problem and its findings, exit 2', async () => {
    const result = await hive(url, ['cells', 'create', '-t', 'nope', '-b', 'x']);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('The template cannot be provisioned as requested');
    expect(result.stderr).toMatch(/error .*nope/);
    const unreachable = await hive('http://127.0.0.1:9', ['cells', 'ls']);
    expect(unreachable.exitCode).toBe(2);
    expect(unreachable.stderr).toContain('cannot reach Hive at http://127.0.0.1:9');
  });
});
