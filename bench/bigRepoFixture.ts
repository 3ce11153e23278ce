// The P6 repository: 100 packages × 1,000 small files (and a hive.config.json with a worktree-only
// template), made once with `git fast-import` and kept between runs at a fixed path (a commit of the
// same content is the same commit: the cache is checked by its commit, not trusted by its folder).
import { access, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';

export const PACKAGES = 100;
export const FILES_PER_PACKAGE = 1_000;

export const bigRepoPath = () =>
  process.env.BENCH_BIGREPO_DIR ?? path.join(tmpdir(), `hive-bench-bigrepo-${PACKAGES}x${FILES_PER_PACKAGE}`);

export const bigRepoTemplates = {
  tree: { label: 'Worktree only', services: {} },
};

function fastImportStream(): string {
  const parts: string[] = [];
  const file = (name: string, content: string) => {
    parts.push(`M 100644 inline ${name}\ndata ${Buffer.byteLength(content)}\n${content}\n`);
  };
  const when = '1700000000 +0000';
  parts.push(
    `commit refs/heads/main\nauthor Bench <bench@example.com> ${when}\ncommitter Bench <bench@example.com> ${when}\ndata 9\nbig repo\n`,
  );
  file('hive.config.json', `${JSON.stringify({ templates: bigRepoTemplates }, null, 2)}\n`);
  file('.gitignore', 'node_modules/\n');
  file('README.md', '# big repo\n');
  for (let p = 0; p < PACKAGES; p++) {
    const pkg = `packages/pkg${String(p).padStart(3, '0')}`;
    file(`${pkg}/package.json`, `{ "name": "pkg${p}", "version": "1.0.0" }\n`);
    for (let f = 0; f < FILES_PER_PACKAGE - 1; f++) {
      file(
        `${pkg}/src/mod${String(f).padStart(4, '0')}.ts`,
        `export const v${f} = ${p * FILES_PER_PACKAGE + f};\n`,
      );
    }
  }
  parts.push('\n');
  return parts.join('');
}

/** The repository, made if it is not there yet (about a minute), checked out on `main`. */
export async function ensureBigRepo(log: (line: string) => void = () => {}): Promise<string> {
  const dir = bigRepoPath();
  const ready = path.join(dir, '.git', 'hive-bench-ready');
  if (
    await access(ready).then(
      () => true,
      () => false,
    )
  )
    return dir;
  log(`making ${PACKAGES * FILES_PER_PACKAGE} files at ${dir} (once)…`);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const g = (args: string[], input?: string) => execa('git', args, { cwd: dir, input });
  await g(['init', '-q', '--initial-branch=main']);
  await g(['config', 'user.email', 'bench@example.com']);
  await g(['config', 'user.name', 'Bench']);
  await g(['fast-import', '--quiet'], fastImportStream());
  await g(['checkout', '-q', '-f', 'main']);
  await writeFile(ready, `${new Date().toISOString()}\n`);
  return dir;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const started = performance.now();
  console.log(await ensureBigRepo(console.log), `${((performance.now() - started) / 1000).toFixed(1)} s`);
}
