import { closeSync, openSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { git, gitSays } from '../src/activities/git.js';
import { DetachedSpawnError, runProgram, spawnDetached } from '../src/spawner/index.js';
import { createGitRepo } from './support/gitRepo.js';

// The spawn helper (src/spawner): short programs run from a small helper process, with the same
// answers as when this process runs them itself.

let repo: string;
let dir: string;
beforeAll(async () => {
  repo = await createGitRepo({ 'README.md': '# spawner\n' });
  dir = await mkdtemp(path.join(tmpdir(), 'hive-spawner-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
  await rm(repo, { recursive: true, force: true });
});

const direct = (args: string[], input?: string) =>
  execa('git', args, { cwd: repo, input, reject: false, env: { GIT_TERMINAL_PROMPT: '0' } });

describe('the spawn helper', () => {
  it('answers as a direct run does: output, input, exit codes, a program that cannot start', async () => {
    const head = await direct(['rev-parse', 'HEAD']);
    expect(await git(repo, ['rev-parse', 'HEAD'])).toBe(head.stdout);
    const batch = await direct(['cat-file', '--batch-check'], 'HEAD\n');
    expect(await git(repo, ['cat-file', '--batch-check'], { input: 'HEAD\n' })).toBe(batch.stdout);
    expect(await gitSays(repo, ['show-ref', '--verify', '--quiet', 'refs/heads/none'])).toBe(false);
    await expect(git(repo, ['rev-parse', '--verify', 'none^{commit}'])).rejects.toThrow(
      /git rev-parse failed \(128\)/,
    );
    const missing = await runProgram('hive-no-such-program', [], { cwd: repo });
    expect(missing).toMatchObject({ exitCode: null, stdout: '' });
    expect(missing.stderr).toContain('ENOENT');
    // Arguments are argv: nothing a shell would read is read.
    const literal = await runProgram('node', ['-e', 'console.log(process.argv[1])', '$(echo no); `x`'], {
      cwd: repo,
    });
    expect(literal.stdout).toBe('$(echo no); `x`');
  });

  it("runs programs from the helper, with the caller's environment as it is at the call", async () => {
    const parent = await runProgram('node', ['-e', 'console.log(process.ppid)'], { cwd: repo });
    expect(Number(parent.stdout)).not.toBe(process.pid);
    const own = await runProgram('node', ['-e', 'console.log(process.env.HIVE_SPAWNER_PROBE)'], {
      cwd: repo,
      env: { HIVE_SPAWNER_PROBE: 'set at the call' },
    });
    expect(own.stdout).toBe('set at the call');
  });

  it('a helper killed while a call waits: the call is answered all the same, and the next starts a new helper', async () => {
    const slow = runProgram('node', ['-e', 'setTimeout(() => console.log("done"), 1500)'], { cwd: repo });
    const helperPid = Number(
      (await runProgram('node', ['-e', 'console.log(process.ppid)'], { cwd: repo })).stdout,
    );
    process.kill(helperPid, 'SIGKILL');
    expect((await slow).stdout).toBe('done');
    const next = Number(
      (await runProgram('node', ['-e', 'console.log(process.ppid)'], { cwd: repo })).stdout,
    );
    expect(next).not.toBe(helperPid);
    expect(next).not.toBe(process.pid);
  });

  it('never keeps its process alive, and ends with it', async () => {
    const script = path.join(dir, 'uses-helper.mts');
    await writeFile(
      script,
      [
        `import { runProgram } from ${JSON.stringify(path.resolve('src/spawner/index.ts'))};`,
        `const r = await runProgram('node', ['-e', 'console.log(process.ppid)'], { cwd: ${JSON.stringify(repo)} });`,
        'console.log(r.stdout);',
      ].join('\n'),
    );
    const run = await execa('npx', ['tsx', script], { timeout: 60_000 });
    const helperPid = Number(run.stdout.trim().split('\n').at(-1));
    expect(helperPid).toBeGreaterThan(0);
    // The script ended on its own (no timeout above); its helper follows when the channel closes.
    // (Exited shows as gone or as a zombie: its new parent, this VM's init, may not reap it.)
    await expect
      .poll(async () => {
        const stat = await readFile(`/proc/${helperPid}/stat`, 'utf8').catch(() => '');
        return stat === '' || stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z') ? 'gone' : 'alive';
      })
      .toBe('gone');
  });

  it('starts a detached program (a service): its own session, its output in the file given, its exit reported', async () => {
    const log = path.join(dir, 'service.log');
    await writeFile(log, 'before\n');
    const fd = openSync(log, 'a');
    const exited = new Promise<{ pid: number; code: number | null; signal: string | null }>((resolve) => {
      void spawnDetached(
        'node',
        [
          '-e',
          'console.log("sid", require("fs").readFileSync("/proc/self/stat", "utf8").split(") ")[1].split(" ")[3], process.env.ONLY, process.env.PATH === undefined); process.exit(7)',
        ],
        {
          cwd: repo,
          env: { ONLY: 'this' },
          logFd: fd,
          onExit: (pid, code, signal) => resolve({ pid, code, signal }),
        },
      ).then((pid) => started.push(pid));
    });
    const started: number[] = [];
    const exit = await exited;
    closeSync(fd);
    expect(started).toEqual([exit.pid]);
    expect(exit).toMatchObject({ code: 7, signal: null });
    const [before, said] = (await readFile(log, 'utf8')).trim().split('\n');
    expect(before).toBe('before');
    // Its session id is its own pid (detached: a new session), and its environment is only `env`.
    expect(said).toBe(`sid ${exit.pid} this true`);
    // One that cannot start is said so, as not started (not as the helper gone).
    const missing = spawnDetached('hive-no-such-program', [], {
      cwd: repo,
      env: {},
      logFd: openSync(log, 'a'),
      onExit: () => {},
    });
    await expect(missing).rejects.toBeInstanceOf(DetachedSpawnError);
    await expect(missing).rejects.toMatchObject({ reason: 'not-started' });
  });
});
