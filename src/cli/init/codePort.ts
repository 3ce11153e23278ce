import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';

// A server whose port is written in its code. NestJS's, Hono's and Express's own starters show
// `app.listen(3000)` / `serve({ fetch, port: 3000 })`, and many projects keep it so: such a server
// never hears the cell's $PORT. Init cannot change the code, so it reads it: when no source file of
// the package mentions PORT (process.env.PORT, Bun.env.PORT, a config key) and a file that starts a
// server (`listen(`, `serve(`) names a literal port, the service takes that port as Hive's `auto`
// port (adopted once it listens, free and unclaimed) instead of failing on first contact.

export interface CodePort {
  port: number;
  /** The file (relative to the package) that names it. */
  file: string;
}

const SOURCE = /\.(?:[cm]?[jt]s)$/;
const SKIP_DIRS = new Set([
  'node_modules',
  'dist',
  'build',
  'out',
  'coverage',
  'test',
  'tests',
  '__tests__',
  'e2e',
  'public',
  'static',
  'vendor',
]);
/** Enough for an app's own sources; a package bigger than this is read in part. */
const MAX_FILES = 400;
const MAX_BYTES = 256 * 1024;

const READS_PORT = /\bPORT\b/;
const STARTS_SERVER = /\.listen\s*\(|\bserve\s*\(|Bun\.serve\s*\(|Deno\.serve\s*\(/;
const LITERAL_PORT = [/\.listen\s*\(\s*(\d{2,5})\s*[,)]/, /\bport\s*:\s*(\d{2,5})\s*[,}\n]/];

async function sourceFiles(root: string): Promise<string[]> {
  const found: string[] = [];
  const queue = [''];
  while (queue.length > 0 && found.length < MAX_FILES) {
    const dir = queue.shift() ?? '';
    const entries = await readdir(path.join(root, dir), { withFileTypes: true }).catch(() => []);
    for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      if (e.name.startsWith('.')) continue;
      const rel = path.join(dir, e.name);
      if (e.isDirectory() && !SKIP_DIRS.has(e.name)) queue.push(rel);
      else if (e.isFile() && SOURCE.test(e.name) && !/\.(test|spec|config|d)\.[cm]?[jt]s$/.test(e.name))
        found.push(rel);
    }
  }
  return found.slice(0, MAX_FILES);
}

/** The port written in a package's server code, when its code reads no PORT; else undefined. */
export async function codePort(root: string, dir: string): Promise<CodePort | undefined> {
  const base = path.join(root, dir);
  let candidate: CodePort | undefined;
  for (const file of await sourceFiles(base)) {
    const full = path.join(base, file);
    if (((await stat(full).catch(() => undefined))?.size ?? MAX_BYTES + 1) > MAX_BYTES) continue;
    const text = await readFile(full, 'utf8').catch(() => '');
    if (READS_PORT.test(text)) return undefined;
    if (candidate || !STARTS_SERVER.test(text)) continue;
    for (const pattern of LITERAL_PORT) {
      const port = Number(pattern.exec(text)?.[1]);
      if (port >= 1024 && port <= 65535) {
        candidate = { port, file };
        break;
      }
    }
  }
  return candidate;
}
