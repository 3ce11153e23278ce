import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { createJiti } from 'jiti';
import type { z } from 'zod';
import { packageRoot } from '../config/paths.js';
import { type HiveConfig, HiveConfigSchema, type Template } from './schema.js';

/** Looked up in this order at the workspace root. */
export const CONFIG_FILE_NAMES = [
  'hive.config.ts',
  'hive.config.mts',
  'hive.config.js',
  'hive.config.mjs',
  'hive.config.json',
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
  return error.issues.map((issue) => ({
    file,
    path: issue.path.map(String).join('.') || '(root)',
    message: issue.message,
    hint: hintFor(issue),
  }));
}

async function findConfigFile(root: string) {
  for (const name of CONFIG_FILE_NAMES) {
    const file = path.join(root, name);
    const info = await stat(file).catch(() => undefined);
    if (info?.isFile()) return { file, version: `${info.mtimeMs}:${info.size}` };
  }
  return undefined;
}

/** Turns a parsed config into templates with their ids filled in from their keys. */
export function templatesOf(config: HiveConfig): Template[] {
  return Object.entries(config.templates).map(([id, template]) => ({ ...template, id }));
}

/**
 * Loads a workspace's hive.config.{ts,js,json} with jiti (no hand-written transpiling) and keeps
 * the result until the file changes: every call stats the file, so an edited config is picked up
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
            hint: file.endsWith('.json')
              ? 'Fix the JSON syntax.'
              : 'Fix the syntax error, and export the config: export default defineConfig({ templates: { … } }).',
          },
        ],
      };
    }
    const parsed = HiveConfigSchema.safeParse(raw);
    if (!parsed.success) return { ok: false, file, problems: problemsFromZod(file, parsed.error) };
    return { ok: true, file, config: parsed.data, templates: templatesOf(parsed.data) };
  }

  return {
    async load(workspaceRoot: string): Promise<LoadedConfig> {
      const found = await findConfigFile(workspaceRoot);
      if (!found) {
        return {
          ok: false,
          problems: [
            {
              file: path.join(workspaceRoot, 'hive.config.ts'),
              path: '(file)',
              message: 'no hive.config.ts or hive.config.json in the workspace root',
              hint: 'Create hive.config.ts exporting defineConfig({ templates: { … } }), or hive.config.json.',
            },
          ],
        };
      }
      const cached = cache.get(found.file);
      if (cached?.version === found.version) return cached.result;
      const result = await evaluate(found.file);
      cache.set(found.file, { version: found.version, result });
      return result;
    },
  };
}

export type ConfigLoader = ReturnType<typeof createConfigLoader>;
