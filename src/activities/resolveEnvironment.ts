// The cell's environment, resolved from its plan and ports: the variables of `.hive/env` (ports,
// URLs, databases, options, the template's env), each service's own, the commands with their
// placeholders filled in, and the secrets a process gets only where it starts.
import path from 'node:path';
import { ErrorType } from '../cells/catalog.js';
import type { AllocatedPort, CellEnvironment, CellPlan, ServicePlan } from '../cells/plan.js';
import { type ProxyAddress, servicePublicUrl } from '../proxy/names.js';
import { redactor } from '../secrets/redact.js';
import { isSecret, resolveSecrets, SecretUnavailable } from '../secrets/refs.js';
import { optionVariable, resolvePlaceholders } from '../templates/placeholders.js';
import { databaseEnv } from './databases.js';
import { permanent } from './failures.js';

/** A service's name as it appears in variable names (WEB_PORT). */
export const envName = (service: string) => service.toUpperCase().replace(/[^A-Z0-9]/g, '_');

/** The environment one service runs with: the cell's, then what is its own. */
export const serviceEnvironment = (env: CellEnvironment, service: string): Record<string, string> => ({
  ...env.env,
  ...env.services[service]?.env,
});

/** Secret references a process of the cell gets (a service's own on top of the cell's). */
export const secretRefs = (
  env: Pick<CellEnvironment, 'secrets' | 'services'>,
  service?: string,
): Record<string, string> => ({
  ...env.secrets,
  ...(service ? env.services[service]?.secrets : {}),
});

/**
 * Secret values, resolved where a process is about to start, and a redactor for what that process
 * writes. A reference that does not resolve fails the step with a hint (no process starts without
 * its secrets).
 */
export async function revealSecrets(plan: CellPlan, refs: Record<string, string>) {
  try {
    const values = await resolveSecrets(refs, { workspacePath: plan.workspacePath });
    return { values, redact: redactor(values) };
  } catch (error) {
    if (!(error instanceof SecretUnavailable)) throw error;
    throw permanent(ErrorType.SecretUnavailable, error.message, { hint: error.hint });
  }
}

/** Where a service's commands run: its `cwd`, relative to the worktree. */
export const serviceDir = (plan: CellPlan, service: ServicePlan) =>
  path.resolve(plan.worktreePath, service.cwd ?? '.');

/** Resolves every placeholder of the plan against the allocated ports and option values. */
export function resolveEnvironment(
  plan: CellPlan,
  ports: AllocatedPort[],
  publicUrls?: ProxyAddress,
): Omit<CellEnvironment, 'envFile'> {
  const portOf = (service: string, name?: string) => {
    const svc = plan.services.find((s) => s.name === service);
    const wanted = name ?? svc?.primaryPort;
    return ports.find((p) => p.service === service && p.name === wanted)?.port;
  };
  const values = (self?: string) => ({
    self,
    port: portOf,
    option: (name: string) => plan.options[name],
  });
  const command = (text: string, self?: string) => resolvePlaceholders(text, values(self), 'command');
  const env: Record<string, string> = {
    HIVE_CELL_ID: plan.cellId,
    HIVE_CELL_DIR: plan.worktreePath,
    HIVE_WORKSPACE_DIR: plan.workspacePath,
    HIVE_BRANCH: plan.branch,
  };
  for (const service of plan.services) {
    // Through Hive's proxy: stable across restarts and port changes (an `auto` port too).
    if (publicUrls && service.primaryPort !== undefined) {
      env[`${envName(service.name)}_PUBLIC_URL`] = servicePublicUrl(publicUrls, plan.cellId, service.name);
    }
    const primary = portOf(service.name);
    if (primary === undefined) continue;
    env[`${envName(service.name)}_PORT`] = String(primary);
    env[`${envName(service.name)}_URL`] = `http://127.0.0.1:${primary}`;
    for (const p of ports.filter((x) => x.service === service.name && x.name !== service.primaryPort)) {
      env[`${envName(service.name)}_${envName(p.name)}_PORT`] = String(p.port);
    }
  }
  // Each database by its name; the first also as DATABASE_URL and libpq's PG* variables.
  for (const [i, database] of (plan.databases ?? []).entries()) {
    Object.assign(env, databaseEnv(database, envName(database.name), i === 0));
  }
  // Option values reach commands only through these variables (see templates/placeholders.ts).
  for (const [name, value] of Object.entries(plan.options)) env[optionVariable(name)] = String(value);
  const secrets: Record<string, string> = {};
  for (const [key, value] of Object.entries(plan.env)) {
    if (isSecret(value)) secrets[key] = value.secret;
    else env[key] = resolvePlaceholders(value, values());
  }
  const services: CellEnvironment['services'] = {};
  for (const service of plan.services) {
    // Only what differs from the cell-wide env, so history does not carry it once per service.
    const own: Record<string, string> = {};
    const primary = portOf(service.name);
    // Many servers read PORT; set it to the service's own primary port.
    if (primary !== undefined) own.PORT = String(primary);
    const ownSecrets: Record<string, string> = {};
    for (const [key, value] of Object.entries(service.env)) {
      if (isSecret(value)) ownSecrets[key] = value.secret;
      else own[key] = resolvePlaceholders(value, values(service.name));
    }
    services[service.name] = {
      env: own,
      ...(Object.keys(ownSecrets).length ? { secrets: ownSecrets } : {}),
      run: command(service.run, service.name),
      setup: service.setup.map((cmd) => command(cmd, service.name)),
      stop: service.stop === undefined ? undefined : command(service.stop, service.name),
    };
  }
  return {
    env,
    ...(Object.keys(secrets).length ? { secrets } : {}),
    services,
    setup: plan.setup.map((cmd) => command(cmd)),
    teardown: plan.teardown.map((cmd) => command(cmd)),
  };
}
