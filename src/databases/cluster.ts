import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { DatabaseServerError } from './errors.js';
import { ownByServer, serverCommand } from './serverUser.js';

// A workspace server's cluster, made once by initdb.

/** initdb failed: the line that says why in the message, and its whole output as the log tail. */
function initdbFailure(output: string, bin: string, data: string) {
  const lines = output.trim().split('\n').filter(Boolean);
  const why = lines.findLast((line) => /error|fatal|could not|denied/i.test(line)) ?? lines.at(-1);
  const run = serverCommand(path.join(bin, 'initdb'), ['-D', data]);
  return new DatabaseServerError(
    'failed',
    why ? `initdb failed: ${why.trim()}` : 'initdb failed and printed nothing',
    why
      ? 'Fix what initdb names (its whole output is in the log tail), then retry the cell.'
      : `Run it by hand to see why: ${run.file} ${run.args.join(' ')}`,
    why ? lines.slice(-15).join('\n') : undefined,
  );
}

/** The cluster, created with initdb into a temporary folder renamed into place. */
export async function initCluster(data: string, bin: string, user: string) {
  if (await stat(path.join(data, 'PG_VERSION')).catch(() => undefined)) return;
  const fresh = `${data}.init-${randomBytes(4).toString('hex')}`;
  await mkdir(fresh, { recursive: true, mode: 0o700 });
  await ownByServer(fresh);
  const init = serverCommand(path.join(bin, 'initdb'), [
    '-D',
    fresh,
    '-U',
    user,
    '--auth=trust',
    '--encoding=UTF8',
    '--no-sync',
  ]);
  const result = await execa(init.file, init.args, { reject: false, all: true, cwd: '/' });
  if (result.exitCode !== 0) {
    await rm(fresh, { recursive: true, force: true });
    throw initdbFailure(result.all ?? '', bin, data);
  }
  await rename(fresh, data);
}
