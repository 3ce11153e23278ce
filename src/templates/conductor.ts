import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import type { LoadedConfig } from './loader.js';
import { type Template, TemplateSpec } from './schema.js';

// A repository set up for Conductor (conductor.build) describes its workspaces in conductor.json at
// its root: `{ scripts: { setup?, run?, archive? }, runScriptMode? }`. Hive reads it as it is, as one
// more template, so such a repository needs no second description:
//   setup   → the template's setup, run once in the new worktree;
//   run     → a service `run` on a block of ten consecutive free ports reserved for the cell, as
//             Conductor gives each workspace; CONDUCTOR_PORT is the first (the run script serves there);
//   archive → the template's teardown, run when the cell is archived (or rolled back).
// Conductor's variables: CONDUCTOR_ROOT_PATH (the repository root), CONDUCTOR_WORKSPACE_NAME (the
// cell's id, the basename of its worktree as a Conductor workspace's name is of its folder),
// CONDUCTOR_WORKSPACE_PATH (the worktree) and CONDUCTOR_PORT.

export const CONDUCTOR_FILE = 'conductor.json';

/** The id of the template derived from conductor.json (a hive.config template of that id wins). */
export const CONDUCTOR_TEMPLATE_ID = 'conductor';

/** Ports Conductor gives a workspace: CONDUCTOR_PORT through CONDUCTOR_PORT+9. */
const CONDUCTOR_PORTS = 10;

/** The service the run script becomes. */
export const CONDUCTOR_RUN_SERVICE = 'run';

const script = z.string().trim().min(1, 'a shell script (omit the key when there is none)');

/** conductor.json as Conductor documents it; keys of later Conductor versions pass through unread. */
export const ConductorSchema = z.looseObject({
  scripts: z
    .looseObject({ setup: script.optional(), run: script.optional(), archive: script.optional() })
    .default({}),
  runScriptMode: z.enum(['concurrent', 'nonconcurrent']).optional(),
});
export type ConductorConfig = z.infer<typeof ConductorSchema>;

/**
 * The per-cell variables exist only once the cell does: each script starts by exporting them from
 * Hive's own (HIVE_CELL_ID, HIVE_CELL_DIR), so they hold for every line of a multi-line script.
 */
const PRELUDE = 'export CONDUCTOR_WORKSPACE_NAME="$HIVE_CELL_ID" CONDUCTOR_WORKSPACE_PATH="$HIVE_CELL_DIR"\n';
const withPrelude = (text: string) => `${PRELUDE}${text}`;

/** The template a conductor.json describes, for the repository at `root`. */
export function conductorTemplate(config: ConductorConfig, root: string): Template {
  const { setup, run, archive } = config.scripts;
  const spec = TemplateSpec.parse({
    label: 'Conductor workspace',
    description: `From ${CONDUCTOR_FILE}: ${
      [setup && 'setup script', run && 'run script', archive && 'archive script']
        .filter(Boolean)
        .join(', ') || 'no scripts'
    }`,
    setup: setup ? [withPrelude(setup)] : [],
    teardown: archive ? [withPrelude(archive)] : [],
    env: {
      CONDUCTOR_ROOT_PATH: root,
      // Every script, the agent's shell included, sees the port the run script serves on.
      ...(run ? { CONDUCTOR_PORT: `$PORT:${CONDUCTOR_RUN_SERVICE}` } : {}),
    },
    services: run
      ? {
          [CONDUCTOR_RUN_SERVICE]: {
            run: withPrelude(run),
            // Ready when CONDUCTOR_PORT accepts connections (Hive's default probe for a port).
            ports: { primary: { block: CONDUCTOR_PORTS } },
          },
        }
      : {},
  });
  return { ...spec, id: CONDUCTOR_TEMPLATE_ID, source: CONDUCTOR_FILE };
}

export type ConductorResult =
  | { ok: true; template: Template }
  | { ok: false; path: string; message: string; hint: string };

/** Reads and checks `<root>/conductor.json`. */
export async function loadConductor(root: string): Promise<ConductorResult> {
  const file = path.join(root, CONDUCTOR_FILE);
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    return {
      ok: false,
      path: '(file)',
      message: `cannot be loaded: ${error instanceof Error ? error.message : String(error)}`,
      hint: 'Fix the JSON syntax of conductor.json.',
    };
  }
  const parsed = ConductorSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return {
      ok: false,
      path: issue?.path.map(String).join('.') || '(root)',
      message: issue?.message ?? 'invalid',
      hint: 'conductor.json holds { "scripts": { "setup"?, "run"?, "archive"? : "<shell script>" }, "runScriptMode"? }.',
    };
  }
  return { ok: true, template: conductorTemplate(parsed.data, root) };
}

/**
 * A workspace's templates with the one its conductor.json describes added: beside a hive.config's
 * (unless that defines a template `conductor`: then the person's own description wins and
 * conductor.json is not read), or alone. A conductor.json that cannot be read fails the load, as
 * a broken hive.config does, naming the file: a template silently missing would be worse.
 */
export async function withConductor(
  root: string,
  loaded: LoadedConfig | undefined,
  hasConductor: boolean,
): Promise<LoadedConfig> {
  if (loaded && (!loaded.ok || !hasConductor)) return loaded;
  if (loaded?.templates.some((t) => t.id === CONDUCTOR_TEMPLATE_ID)) return loaded;
  const file = path.join(root, CONDUCTOR_FILE);
  const conductor = await loadConductor(root);
  if (!conductor.ok) {
    const { path: where, message, hint } = conductor;
    return { ok: false, file, problems: [{ file, path: where, message, hint }] };
  }
  if (!loaded) return { ok: true, file, config: { templates: {} }, templates: [conductor.template] };
  return { ...loaded, templates: [...loaded.templates, conductor.template] };
}
