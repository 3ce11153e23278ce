import { execFileSync } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listWork } from '../src/activities/workBaseline.js';
import { createGitRepo } from './support/gitRepo.js';

// What a worktree holds beyond HEAD (src/activities/workBaseline.ts), in one `git status`: every
// layout archive meets, with real git. Each expectation is what `git diff HEAD`, `ls-files --others`
// and the ignore rules say of that path.
const gitIn = (dir: string, ...args: string[]) => execFileSync('git', args, { cwd: dir, encoding: 'utf8' });

async function put(dir: string, file: string, content = `${file}\n`) {
  await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
  await writeFile(path.join(dir, file), content);
}

describe('the work in a worktree', () => {
  let repo: string;
  beforeAll(async () => {
    repo = await createGitRepo({
      '.gitignore': 'node_modules/\n*.log\n/dist/\ncache/*\n!cache/keep.txt\n',
      'src/edited.js': 'a\n',
      'src/gone.js': 'a\n',
      'src/staged back.js': 'a\n',
      'cache/keep.txt': 'k\n',
    });
    await put(repo, 'src/edited.js', 'b\n');
    await rm(path.join(repo, 'src/gone.js'));
    // Staged, then the file put back as HEAD has it: the index differs, the worktree does not.
    await put(repo, 'src/staged back.js', 'c\n');
    gitIn(repo, 'add', 'src/staged back.js');
    await put(repo, 'src/staged back.js', 'a\n');
    // Added to the index, then its file deleted: in neither HEAD nor the worktree.
    await put(repo, 'only-staged.txt', 's\n');
    gitIn(repo, 'add', 'only-staged.txt');
    await rm(path.join(repo, 'only-staged.txt'));
    await put(repo, 'new dir/deep/file.txt');
    await put(repo, 'new dir/deep/trace.log');
    await put(repo, 'node_modules/pkg/index.js');
    await put(repo, 'dist/out.js');
    await put(repo, 'cache/entry');
    await put(repo, '.hive/env', 'SECRET=1\n');
  });
  afterAll(() => rm(repo, { recursive: true, force: true }));

  it('lists changed, deleted, untracked and ignored paths, ignored folders as one, Hive’s own never', async () => {
    const work = Object.fromEntries((await listWork(repo)).map((e) => [e.path, e.kind]));
    expect(work).toEqual({
      'src/edited.js': 'modified',
      'src/gone.js': 'deleted',
      // Listed (its file is as HEAD has it, so its fingerprint matches HEAD's content): harmless.
      'src/staged back.js': 'modified',
      'new dir/deep/file.txt': 'untracked',
      'new dir/deep/trace.log': 'ignored',
      'node_modules/': 'ignored',
      'dist/': 'ignored',
      'cache/entry': 'ignored',
    });
    // What an archive adds to its commit must be there to add: `git add` refuses a path in neither.
    expect(work['only-staged.txt']).toBeUndefined();
  });

  it('fingerprints each entry by what it holds, so a later change shows', async () => {
    const before = new Map((await listWork(repo)).map((e) => [e.path, e.fingerprint]));
    await put(repo, 'new dir/deep/file.txt', 'changed\n');
    const after = new Map((await listWork(repo)).map((e) => [e.path, e.fingerprint]));
    expect(after.get('new dir/deep/file.txt')).not.toBe(before.get('new dir/deep/file.txt'));
    expect(after.get('src/edited.js')).toBe(before.get('src/edited.js'));
    expect(after.get('src/gone.js')).toBe('deleted');
    expect(after.get('node_modules/')).toBe('dir');
  });
});
