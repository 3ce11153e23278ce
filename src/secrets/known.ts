import type { Workspace } from '../config/env.js';
import type { ConfigLoader } from '../templates/loader.js';
import { redactor } from './redact.js';
import { isSecret, resolveSecret } from './refs.js';

/** The secrets a cell's template declares (its own env and its services'): name → reference. */
export async function templateSecretRefs(
  configs: ConfigLoader,
  workspace: Workspace | undefined,
  templateId: string,
): Promise<Record<string, string>> {
  if (!workspace) return {};
  const loaded = await configs.load(workspace.path);
  const template = loaded.ok ? loaded.templates.find((t) => t.id === templateId) : undefined;
  if (!template) return {};
  const refs: Record<string, string> = {};
  for (const env of [template.env, ...Object.values(template.services).map((s) => s.env)]) {
    for (const [name, value] of Object.entries(env)) if (isSecret(value)) refs[name] = value.secret;
  }
  return refs;
}

/**
 * The values of those secrets, resolved the way the worker resolves them, by variable name. A secret
 * that does not resolve here is left out (the worker could not have passed it on either).
 */
export async function templateSecrets(
  configs: ConfigLoader,
  workspace: Workspace | undefined,
  templateId: string,
): Promise<Record<string, string>> {
  const values: Record<string, string> = {};
  for (const [name, ref] of Object.entries(await templateSecretRefs(configs, workspace, templateId))) {
    const resolved = await resolveSecret(name, ref, { workspacePath: workspace?.path ?? '' }).catch(
      () => undefined,
    );
    if (resolved !== undefined) values[name] = resolved;
  }
  return values;
}

/** A redactor for the log lines of a cell's services as the API shows them (SSE, log tails). */
export async function cellLogRedactor(
  configs: ConfigLoader,
  workspace: Workspace | undefined,
  templateId: string,
): Promise<(text: string) => string> {
  return redactor(await templateSecrets(configs, workspace, templateId));
}
