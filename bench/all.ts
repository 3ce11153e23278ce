// `npm run bench -- [N]`: every benchmark, one after another, each in its own process (so one's
// memory and processes do not weigh on the next), with the same N.
import path from 'node:path';
import { execa } from 'execa';

for (const script of [
  'provision.ts',
  'services.ts',
  'idle.ts',
  'wake.ts',
  'pool.ts',
  'dependencies.ts',
  'databases.ts',
  // P6: a 100,000-file repository (made once, kept in $TMPDIR), cell vs `git worktree add`.
  'bigRepo.ts',
]) {
  await execa('tsx', [path.join(import.meta.dirname, script), ...process.argv.slice(2)], {
    stdio: 'inherit',
    preferLocal: true,
  });
}
