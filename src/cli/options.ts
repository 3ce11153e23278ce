import type { HiveClient } from '../client/index.js';
import { CliError } from './output.js';

// Small helpers the cell and template commands share: which workspace, and `-o key=value` options.

/** `-w` if given, else the only registered workspace (GET /workspaces). */
export async function resolveWorkspace(client: HiveClient, given?: string): Promise<string> {
  if (given) return given;
  const workspaces = await client.listWorkspaces();
  const [only] = workspaces;
  if (workspaces.length === 1 && only) return only.id;
  if (workspaces.length === 0) {
    throw new CliError(
      'Hive has no workspaces: add one (hive workspaces add <id> <path>), or start Hive in a git repository',
    );
  }
  throw new CliError(`several workspaces; choose one with -w: ${workspaces.map((w) => w.id).join(', ')}`);
}

/** Commander collector for repeatable `-o key=value`. */
export function collectPair(value: string, previous: string[] = []): string[] {
  if (!/^[^=]+=/.test(value)) throw new CliError(`-o ${value}: expected key=value`);
  return [...previous, value];
}

type PropertySchema = { type?: string | string[]; enum?: unknown[] };

/**
 * `key=value` pairs as template options, each value typed by the template's option schema (a JSON
 * Schema, from GET /templates/:id): "true" is a boolean for a boolean option and stays text for a
 * string one. Keys the schema does not know are passed as text, for the dry run to name.
 */
export function parseOptionPairs(
  pairs: string[],
  schema?: { properties?: Record<string, PropertySchema> },
): Record<string, unknown> {
  const options: Record<string, unknown> = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    const key = pair.slice(0, at);
    const raw = pair.slice(at + 1);
    const type = schema?.properties?.[key]?.type;
    const types = Array.isArray(type) ? type : [type];
    if (types.includes('boolean') && (raw === 'true' || raw === 'false')) options[key] = raw === 'true';
    else if (
      (types.includes('number') || types.includes('integer')) &&
      raw.trim() !== '' &&
      !Number.isNaN(Number(raw))
    )
      options[key] = Number(raw);
    else options[key] = raw;
  }
  return options;
}

/** Options for a request: typed by the template's schema when it can be read. */
export async function templateOptions(
  client: HiveClient,
  workspace: string,
  template: string,
  pairs: string[],
): Promise<Record<string, unknown>> {
  if (pairs.length === 0) return {};
  const detail = await client.getTemplate(workspace, template).catch(() => undefined);
  return parseOptionPairs(pairs, detail?.options as { properties?: Record<string, PropertySchema> });
}
