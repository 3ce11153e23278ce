import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';

// What a docker-compose file runs, read only: each service's image or build (its context, its
// Dockerfile's base image, the language its files say), command, ports and dependencies.

export interface ComposePort {
  /** The port on the host, when the file publishes one. */
  published?: number;
  /** The port inside the container. */
  target: number;
}

export interface ComposeBuild {
  /** The build context, relative to the repository root ('.' for the root). */
  context: string;
  /** The Dockerfile, relative to the root. */
  dockerfile: string;
  /** The image its last stage starts FROM. */
  from?: string;
  /** What the context's files say it is ("Node.js (package.json)"), when they say. */
  language?: string;
}

export interface ComposeService {
  name: string;
  image?: string;
  /** Built from the repository (`build:`), rather than a published image. */
  build?: ComposeBuild;
  command?: string;
  ports: ComposePort[];
  environment: Record<string, string>;
  dependsOn: string[];
}

export interface ComposeFacts {
  file: string;
  services: ComposeService[];
}

const asText = (v: unknown) =>
  typeof v === 'string' ? v : Array.isArray(v) ? v.map(String).join(' ') : undefined;

/** `"8080:80"`, `"127.0.0.1:5432:5432/tcp"`, `5432`, `{ target, published }`. */
function composePorts(value: unknown): ComposePort[] {
  if (!Array.isArray(value)) return [];
  return value.flatMap((entry): ComposePort[] => {
    if (typeof entry === 'number') return [{ target: entry }];
    if (entry && typeof entry === 'object') {
      const { target, published } = entry as { target?: unknown; published?: unknown };
      const t = Number(target);
      return Number.isInteger(t) ? [{ target: t, published: Number(published) || undefined }] : [];
    }
    const parts = String(entry)
      .replace(/\/\w+$/, '')
      .split(':');
    const target = Number(parts.at(-1)?.split('-')[0]);
    const published = parts.length > 1 ? Number(parts.at(-2)?.split('-')[0]) : undefined;
    return Number.isInteger(target) ? [{ target, published: published || undefined }] : [];
  });
}

function composeEnvironment(value: unknown): Record<string, string> {
  if (Array.isArray(value)) {
    return Object.fromEntries(
      value
        .map(String)
        .map((kv) => [kv.split('=')[0] ?? kv, kv.includes('=') ? kv.slice(kv.indexOf('=') + 1) : '']),
    );
  }
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, v === null ? '' : String(v)]));
  }
  return {};
}

/** Files that say which language a folder holds. */
const LANGUAGE_FILES: Array<[string, string]> = [
  ['package.json', 'Node.js'],
  ['requirements.txt', 'Python'],
  ['pyproject.toml', 'Python'],
  ['Pipfile', 'Python'],
  ['go.mod', 'Go'],
  ['Gemfile', 'Ruby'],
  ['pom.xml', 'Java'],
  ['build.gradle', 'Java'],
  ['composer.json', 'PHP'],
  ['Cargo.toml', 'Rust'],
];

const exists = async (file: string) => Boolean(await stat(file).catch(() => undefined));

async function buildOf(root: string, value: unknown): Promise<ComposeBuild | undefined> {
  if (value === undefined || value === null) return undefined;
  const spec =
    typeof value === 'string' ? { context: value } : (value as { context?: unknown; dockerfile?: unknown });
  const context = path.posix.normalize(String(spec.context ?? '.')).replace(/\/+$/, '') || '.';
  const dockerfile = path.posix.join(
    context,
    typeof spec.dockerfile === 'string' ? spec.dockerfile : 'Dockerfile',
  );
  const build: ComposeBuild = { context, dockerfile };
  if (context.startsWith('..') || path.posix.isAbsolute(context)) return build;
  const text = await readFile(path.join(root, dockerfile), 'utf8').catch(() => '');
  const froms = [...text.matchAll(/^\s*FROM\s+(?:--\S+\s+)*(\S+)/gim)].map((m) => m[1] ?? '');
  build.from = froms.at(-1);
  for (const [file, language] of LANGUAGE_FILES) {
    if (await exists(path.join(root, context, file))) {
      build.language = `${language} (${file})`;
      break;
    }
  }
  return build;
}

const COMPOSE_FILES = ['compose.yaml', 'compose.yml', 'docker-compose.yml', 'docker-compose.yaml'];

export async function detectCompose(root: string): Promise<ComposeFacts | undefined> {
  for (const file of COMPOSE_FILES) {
    const text = await readFile(path.join(root, file), 'utf8').catch(() => undefined);
    if (text === undefined) continue;
    const doc = (parseYaml(text) ?? {}) as { services?: Record<string, Record<string, unknown>> };
    const services: ComposeService[] = [];
    for (const [name, s] of Object.entries(doc.services ?? {})) {
      services.push({
        name,
        image: typeof s.image === 'string' ? s.image : undefined,
        build: await buildOf(root, s.build),
        command: asText(s.command),
        ports: composePorts(s.ports),
        environment: composeEnvironment(s.environment),
        dependsOn: Array.isArray(s.depends_on)
          ? s.depends_on.map(String)
          : Object.keys((s.depends_on as Record<string, unknown> | undefined) ?? {}),
      });
    }
    return { file, services };
  }
  return undefined;
}

/** The bare name of an image: `docker.io/library/postgres:16@sha…` → `postgres`. */
export const imageName = (image: string | undefined) =>
  (image ?? '').split('@')[0]?.split(':')[0]?.split('/').at(-1) ?? '';
