import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';

// A Go module's main packages (the root, and cmd/<name>), and which of them are HTTP servers that
// take their port from PORT (`os.Getenv("PORT")`), the convention of Heroku's and Cloud Run's Go
// guides.

export interface GoMain {
  /** The package as `go build` takes it: '.' or './cmd/<name>'. */
  pkg: string;
  /** The binary name `go build` would give it. */
  name: string;
  /** It imports net/http or a common Go web framework. */
  server: boolean;
  readsPort: boolean;
}

export interface GoFacts {
  module: string;
  mains: GoMain[];
}

const SERVER_IMPORT =
  /"(net\/http|github\.com\/(gin-gonic\/gin|labstack\/echo[^"]*|gofiber\/fiber[^"]*|go-chi\/chi[^"]*|gorilla\/mux))"/;
const READS_PORT = /(Getenv|LookupEnv)\(\s*"PORT"\s*\)/;

async function mainPackage(root: string, dir: string): Promise<Omit<GoMain, 'pkg' | 'name'> | undefined> {
  const files = (await readdir(path.join(root, dir)).catch(() => [] as string[])).filter(
    (f) => f.endsWith('.go') && !f.endsWith('_test.go'),
  );
  const texts = await Promise.all(
    files.map((f) => readFile(path.join(root, dir, f), 'utf8').catch(() => '')),
  );
  if (!texts.some((t) => /^package\s+main\b/m.test(t))) return undefined;
  return {
    server: texts.some((t) => SERVER_IMPORT.test(t)),
    readsPort: texts.some((t) => READS_PORT.test(t)),
  };
}

export async function detectGo(root: string): Promise<GoFacts | undefined> {
  const mod = await readFile(path.join(root, 'go.mod'), 'utf8').catch(() => undefined);
  if (mod === undefined) return undefined;
  const module = /^module\s+(\S+)/m.exec(mod)?.[1] ?? path.basename(root);
  const mains: GoMain[] = [];
  const rootMain = await mainPackage(root, '.');
  if (rootMain) mains.push({ pkg: '.', name: module.split('/').at(-1) ?? 'app', ...rootMain });
  const cmds = await readdir(path.join(root, 'cmd'), { withFileTypes: true }).catch(() => []);
  for (const d of cmds.filter((e) => e.isDirectory()).sort((a, b) => a.name.localeCompare(b.name))) {
    const found = await mainPackage(root, path.join('cmd', d.name));
    if (found) mains.push({ pkg: `./cmd/${d.name}`, name: d.name, ...found });
  }
  return { module, mains };
}

/** The main package that builds `binary` (bin/<binary> in a Procfile): cmd/<binary>, else the root. */
export const mainFor = (go: GoFacts, binary: string) =>
  go.mains.find((m) => m.name === binary) ?? go.mains.find((m) => m.pkg === '.') ?? go.mains[0];
