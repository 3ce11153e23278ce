import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { simpleGit } from 'simple-git';

/** A real, throwaway git repository with one commit on `main`, to serve as a workspace. */
export async function createGitRepo(files: Record<string, string> = { 'README.md': '# demo\n' }) {
  const dir = await mkdtemp(path.join(tmpdir(), 'hive-ws-'));
  const git = simpleGit(dir);
  await git.init(['--initial-branch=main']);
  await git.addConfig('user.email', 'test@example.com');
  await git.addConfig('user.name', 'Hive test');
  for (const [name, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    await writeFile(path.join(dir, name), content);
  }
  await git.add('.');
  await git.commit('initial');
  return dir;
}

/** Commits in a checkout the way an agent would (an empty commit is enough to count as work). */
export async function commitWork(dir: string, message = 'agent work') {
  await simpleGit(dir).raw([
    '-c',
    'user.email=agent@example.com',
    '-c',
    'user.name=agent',
    'commit',
    '--allow-empty',
    '-m',
    message,
  ]);
}
