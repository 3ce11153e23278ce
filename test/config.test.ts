import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config/env.js';
import { createGitRepo } from './support/gitRepo.js';

let repo: string;
let plainDir: string;
beforeAll(async () => {
  repo = await createGitRepo();
  plainDir = await mkdtemp(path.join(tmpdir(), 'hive-plain-'));
});
afterAll(async () => {
  await rm(repo, { recursive: true, force: true });
  await rm(plainDir, { recursive: true, force: true });
});

describe('configuration from the environment', () => {
  it('defaults: loopback, a per-user data dir, the cwd as workspace when it is a git repo', () => {
    const config = loadConfig({ XDG_DATA_HOME: plainDir }, repo);
    expect(config.host).toBe('127.0.0.1');
    expect(config.port).toBe(4400);
    expect(config.dataDir).toBe(path.join(plainDir, 'hive-cells'));
    expect(config.databaseUrl).toBe(`file:${path.join(plainDir, 'hive-cells', 'hive.db')}`);
    expect(config.workspaces).toEqual([{ id: path.basename(repo), path: repo }]);
    expect(config.workspacesFromCwd).toBe(true);
    expect(config.temporal).toMatchObject({ namespace: 'default', taskQueue: 'hive-cells' });
  });

  it('data dir: ~/.local/share/hive-cells without XDG_DATA_HOME; a .hive-data already in the cwd is kept', async () => {
    expect(loadConfig({ HOME: plainDir }, repo).dataDir).toBe(
      path.join(plainDir, '.local', 'share', 'hive-cells'),
    );
    await mkdir(path.join(plainDir, '.hive-data'));
    expect(loadConfig({ XDG_DATA_HOME: repo }, plainDir).dataDir).toBe(path.join(plainDir, '.hive-data'));
    await rm(path.join(plainDir, '.hive-data'), { recursive: true });
  });

  it('the default workspace is the repository of a folder inside it, named after its top folder', async () => {
    const sub = path.join(repo, 'packages', 'web');
    await mkdir(sub, { recursive: true });
    expect(loadConfig({}, sub).workspaces).toEqual([{ id: path.basename(repo), path: repo }]);
  });

  it('no default workspace when the cwd is not a git repository', () => {
    expect(loadConfig({}, plainDir).workspaces).toEqual([]);
  });

  it('parses HIVE_WORKSPACES id=path pairs', () => {
    const config = loadConfig({ HIVE_WORKSPACES: `app=${repo}, other=${repo}/.` }, plainDir);
    expect(config.workspaces).toEqual([
      { id: 'app', path: repo },
      { id: 'other', path: repo },
    ]);
  });

  it.each([
    [{ HIVE_PORT: 'abc' }, /HIVE_PORT: expected an integer port 0-65535 \(got "abc"\)/],
    [{ HIVE_PORT: '70000' }, /HIVE_PORT/],
    [{ HIVE_LOG_LEVEL: 'loud' }, /HIVE_LOG_LEVEL/],
    [{ TEMPORAL_ADDRESS: 'localhost' }, /TEMPORAL_ADDRESS: expected host:port/],
    [{ DATABASE_URL: 'mysql://x' }, /DATABASE_URL/],
    [{ HIVE_WORKSPACES: 'nopath' }, /HIVE_WORKSPACES: .*"nopath" is not id=path/],
    [{ HIVE_WORKSPACES: 'x=/definitely/not/here' }, /HIVE_WORKSPACES: .*is not a directory/],
  ])('rejects %o with one line naming the variable', (env, message) => {
    expect(() => loadConfig(env, repo)).toThrow(ConfigError);
    expect(() => loadConfig(env, repo)).toThrow(message);
  });

  it('rejects a workspace that is not a git repository, with the fix', () => {
    expect(() => loadConfig({ HIVE_WORKSPACES: `x=${plainDir}` }, repo)).toThrow(
      /not a git repository \(run git init/,
    );
  });
});
