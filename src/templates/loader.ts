import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { createJiti } from 'jiti';
import type { z } from 'zod';
import { packageRoot } from '../config/paths.js';
import { CONDUCTOR_FILE, withConductor } from './conductor.js';
import { parseJsonc } from './jsonc.js';
import { type HiveConfig, HiveConfigSchema, type Template } from './schema.js';
import { type UnknownKeysIssue, unknownKeyHint, unknownKeyMessage } from './strictKeys.js';

/** Looked up in this order at the workspace root. */
export const CONFIG_FILE_NAMES = [
  'hive.config.ts',
  'hive.config.mts',
  'hive.config.js',
  'hive.config.mjs',
  'hive.config.json',
  'hive.config.jsonc',
];

/** Something wrong with a config file, said so a person can fix it. */
export interface ConfigProblem {
  file: string;
  path: string;
  message: string;
  hint: string;
}

export type LoadedConfig =
  | { ok: true; file: string; config: HiveConfig; templates: Template[] }
  | { ok: false; file?: string; problems: ConfigProblem[] };

function hintFor(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      return issue.message === 'is required'
        ? `Add ${String(issue.path.at(-1) ?? 'the field')} (type ${issue.expected}).`
        : `Change it to a value of type ${issue.expected}.`;
    case 'invalid_value':
      return `Use one of: ${issue.values.map((v) => JSON.stringify(v)).join(', ')}.`;
    case 'unrecognized_keys':
      return `Remove ${issue.keys.join(', ')} or check the spelling.`;
    case 'invalid_union':
      return 'Check the documented forms of this field (see schema/hive.config.schema.json).';
    case 'too_small':
    case 'too_big':
      return `Keep it within the limits: ${issue.message}.`;
    default:
      return 'Fix the value as the message says; the JSON Schema at schema/hive.config.schema.json lists every field.';
  }
}

export function problemsFromZod(file: string, error: z.ZodError): ConfigProblem[] {
  return error.issues.flatMap((issue) => {
    const at = issue.path.map(String);
    // An unknown key is a problem of its own, at its own path, with the nearest known key.
    if (issue.code === 'unrecognized_keys') {
      const known = (issue as UnknownKeysIssue).known ?? [];
      return issue.keys.map((key) => ({
        file,
        path: [...at, key].join('.'),
        message: unknownKeyMessage(key, known),
        hint: known.length ? unknownKeyHint(key, known) : hintFor(issue),
      }));
    }
    return [{ file, path: at.join('.') || '(root)', message: issue.message, hint: hintFor(issue) }];
  });
}

async function fileVersion(file: string) {
  const info = await stat(file).catch(() => undefined);
  return info?.isFile() ? { file, version: `${info.mtimeMs}:${info.size}` } : undefined;
}

async function findConfigFile(root: string) {
  for (const name of CONFIG_FILE_NAMES) {
    const found = await fileVersion(path.join(root, name));
    if (found) return found;
  }
  return undefined;
}

/** Turns a parsed config into templates with their ids filled in from their keys. */
export function templatesOf(config: HiveConfig, source?: string): Template[] {
  return Object.entries(config.templates).map(([id, template]) => ({ ...template, id, source }));
}

/**
 * Loads a workspace's hive.config.{ts,js,json} with jiti (no hand-written transpiling; .jsonc with
 * jsonc-parser), adds the template of its conductor.json if there is one, and keeps the result
 * until a file changes: every call stats the files, so an edited config is picked up
 * without restarting the service. (Files a .ts config imports are not watched; touch the config.)
 */
export function createConfigLoader() {
  const jiti = createJiti(import.meta.url, {
    moduleCache: false,
    fsCache: false,
    interopDefault: true,
    // `import { defineConfig } from 'hive-cells'` resolves to this package, installed or not.
    alias: { 'hive-cells': path.join(packageRoot, 'src', 'index.ts') },
  });
  const cache = new Map<string, { version: string; result: LoadedConfig }>();

  async function evaluate(file: string): Promise<LoadedConfig> {
    let raw: unknown;
    try {
      // JSON is read as it is on disk: jiti keeps the first copy of a .json module even with its
      // caches off, so an edited hive.config.json would never be picked up.
      raw = file.endsWith('.json')
        ? JSON.parse(await readFile(file, 'utf8'))
        : file.endsWith('.jsonc')
          ? parseJsonc(await readFile(file, 'utf8'))
          : await jiti.import(file, { default: true });
    } catch (error) {
      const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
      return {
        ok: false,
        file,
        problems: [
          {
            file,
            path: '(file)',
            message: `cannot be loaded: ${message}`,
            hint: /\.jsonc?$/.test(file)
              ? 'Fix the JSON syntax.'
              : 'Fix the syntax error, and export the config: export default defineConfig({ templates: { … } }).',
          },
        ],
      };
    }
    const parsed = HiveConfigSchema.safeParse(raw);
    if (!parsed.success) return { ok: false, file, problems: problemsFromZod(file, parsed.error) };
    return { ok: true, file, config: parsed.data, templates: templatesOf(parsed.data, path.basename(file)) };
  }

  return {
    async load(workspaceRoot: string): Promise<LoadedConfig> {
      const found = await findConfigFile(workspaceRoot);
      // A repository set up for Conductor: its conductor.json is one more template (conductor.ts).
      const conductor = await fileVersion(path.join(workspaceRoot, CONDUCTOR_FILE));
      if (!found && !conductor) {
        return {
          ok: false,
          problems: [
            {
              file: path.join(workspaceRoot, 'hive.config.ts'),
              path: '(file)',
              message: 'no hive.config.ts, hive.config.json(c) or conductor.json in the workspace root',
              hint: 'Create hive.config.ts exporting defineConfig({ templates: { … } }), or hive.config.json.',
            },
          ],
        };
      }
      const version = [found?.file, found?.version, conductor?.version].join('|');
      const cached = cache.get(workspaceRoot);
      if (cached?.version === version) return cached.result;
      const result = await withConductor(
        workspaceRoot,
        found && (await evaluate(found.file)),
        conductor !== undefined,
      );
      cache.set(workspaceRoot, { version, result });
      return result;
    },
  };
}

export type ConfigLoader = ReturnType<typeof createConfigLoader>;
