import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseCircular, parseDependencyTree } from 'dpdm';
import { describe, expect, it } from 'vitest';

// The shape the code keeps (issue #24): no runtime import cycle, no file under src/ past 320 lines.
// Checked here so the next feature cannot grow a room past it unseen.

const root = path.resolve(import.meta.dirname, '..');
/** Prisma's generated clients: written by `prisma generate`, not by hand. */
const generated = /^src\/db\/generated[^/]*\//;
const maxLines = 320;

describe('structure of src/', () => {
  it('has no runtime import cycle (dpdm, type-only imports left out)', async () => {
    const tree = await parseDependencyTree(['src/**/*.ts', 'src/**/*.tsx'], {
      context: root,
      cwd: root,
      tsconfig: path.join(root, 'tsconfig.json'),
      // `-T`: type-only imports are erased before the graph is read, as at run time.
      transform: true,
      exclude: /node_modules|src\/db\/generated/,
      onProgress: () => {},
    });
    const cycles = parseCircular(tree).map((cycle) => `${[...cycle, cycle[0]].join(' -> ')}`);
    expect(cycles, 'runtime import cycles: move what both sides need down to a leaf module').toEqual([]);
  }, 60_000);

  it(`has no file over ${maxLines} lines (generated code aside)`, async () => {
    const files = (await readdir(path.join(root, 'src'), { recursive: true, withFileTypes: true }))
      .filter((entry) => entry.isFile())
      .map((entry) => path.relative(root, path.join(entry.parentPath, entry.name)).split(path.sep).join('/'))
      .filter((file) => !generated.test(file));
    const long = (
      await Promise.all(
        files.map(async (file) => {
          const text = await readFile(path.join(root, file), 'utf8');
          return { file, lines: text.split('\n').length - (text.endsWith('\n') ? 1 : 0) };
        }),
      )
    )
      .filter(({ lines }) => lines > maxLines)
      .map(({ file, lines }) => `${file}: ${lines} lines`)
      .sort();
    expect(files.length).toBeGreaterThan(100);
    expect(long, `split these by job (one job per file, ~300 lines at most)`).toEqual([]);
  });
});
