import { readFile } from 'node:fs/promises';
import path from 'node:path';

// Conductor's conductor.json: `{ "scripts": { "setup", "run", "archive" } }`. Its setup runs in each
// new workspace, its run script starts the app on $CONDUCTOR_PORT, its archive script runs when the
// workspace is archived; scripts may read CONDUCTOR_ROOT_PATH (the repository) and
// CONDUCTOR_WORKSPACE_PATH (the workspace), which map to Hive's HIVE_WORKSPACE_DIR and HIVE_CELL_DIR.

export interface ConductorScripts {
  setup?: string;
  run?: string;
  archive?: string;
}

export async function detectConductor(root: string): Promise<ConductorScripts | undefined> {
  const text = await readFile(path.join(root, 'conductor.json'), 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  try {
    const scripts = (JSON.parse(text) as { scripts?: Record<string, unknown> }).scripts ?? {};
    const pick = (k: string) =>
      typeof scripts[k] === 'string' && scripts[k] ? (scripts[k] as string) : undefined;
    return { setup: pick('setup'), run: pick('run'), archive: pick('archive') };
  } catch {
    return undefined;
  }
}

/** The script with Conductor's path variables set from Hive's, when it uses them. */
export function withConductorPaths(script: string): string {
  if (!/CONDUCTOR_(ROOT|WORKSPACE)_PATH/.test(script)) return script;
  return `export CONDUCTOR_ROOT_PATH="$HIVE_WORKSPACE_DIR" CONDUCTOR_WORKSPACE_PATH="$HIVE_CELL_DIR"; ${script}`;
}
