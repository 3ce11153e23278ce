import type { Workspace } from '../config/env.js';
import type { ConfigLoader } from '../templates/loader.js';
import { redactor } from './redact.js';
import { isSecret, resolveSecret } from './refs.js';

/**
 * A redactor for the log lines of a cell's services as the API streams them: every secret its
 * template declares (its own env and its services'), resolved the way the worker resolves them.
 * A secret that does not resolve here is left out (the worker could not have passed it on either).
 */
export async function cellLogRedactor(
  configs: ConfigLoader,
  workspace: Workspace | undefined,
  templateId: string,
): Promise<(text: string) => string> {
  if (!workspace) return (text) => text;
  const loaded = await configs.load(workspace.path);
  const template = loaded.ok ? loaded.templates.find((t) => t.id === templateId) : undefined;
  if (!template) return (text) => text;
  const envs = [template.env, ...Object.values(template.services).map((s) => s.env)];
  const values: Record<string, string> = {};
  for (const env of envs) {
    for (const [name, value] of Object.entries(env)) {
      if (!isSecret(value)) continue;
      const resolved = await resolveSecret(name, value.secret, { workspacePath: workspace.path }).catch(
        () => undefined,
      );
      if (resolved !== undefined) values[name] = resolved;
    }
  }
  return redactor(values);
}
