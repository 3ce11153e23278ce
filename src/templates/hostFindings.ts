import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Workspace } from '../config/env.js';
import { isSecret, resolveSecret, SecretUnavailable } from '../secrets/refs.js';
import { error, type Finding } from './findings.js';
import {
  availableMemoryMb,
  freeDiskMb,
  freePortsInRange,
  isGitRepo,
  isPortFree,
  portHolder,
  resolveCommit,
} from './hostChecks.js';
import { portsOf } from './model.js';
import { containedPath, PROMPT_INSIDE_HINT } from './paths.js';
import type { Services } from './programFindings.js';
import type { ServiceSpec, Template } from './schema.js';

// The dry run's read-only checks of the real host: ports, capacity, the repository and the files a
// template names (programs: programFindings.ts). None of them changes anything.

export async function checkPorts(base: string, enabled: Services): Promise<Finding[]> {
  const findings: Finding[] = [];
  const fixed = new Map<number, string>();
  const ranges = new Map<string, { from: number; to: number; wanted: number; where: string }>();
  for (const [name, service] of enabled) {
    for (const [portName, spec] of Object.entries(portsOf(service))) {
      const where = `${base}.services.${name}.ports.${portName}`;
      if (typeof spec === 'number') {
        const twice = fixed.get(spec);
        if (twice) {
          findings.push(
            error(where, `port ${spec} is also fixed at ${twice}`, 'Give each fixed port to one service.'),
          );
          continue;
        }
        fixed.set(spec, where);
        if (!(await isPortFree(spec))) {
          const holder = await portHolder(spec);
          findings.push(
            error(
              where,
              `fixed port ${spec} is in use${holder ? ` by ${holder}` : ''}`,
              `Stop what holds ${spec}, or use a range or "any" for this port.`,
            ),
          );
        }
      } else if (Array.isArray(spec)) {
        const key = `${spec[0]}-${spec[1]}`;
        const entry = ranges.get(key) ?? { from: spec[0], to: spec[1], wanted: 0, where };
        entry.wanted++;
        ranges.set(key, entry);
      }
    }
  }
  for (const { from, to, wanted, where } of ranges.values()) {
    const free = await freePortsInRange(from, to, wanted);
    if (free.length < wanted) {
      findings.push(
        error(
          where,
          `range ${from}-${to} has ${free.length} free port(s); ${wanted} needed`,
          'Widen the range, free ports in it, or use "any".',
        ),
      );
    }
  }
  return findings;
}

export async function checkCapacity(
  base: string,
  template: Template,
  workspace: Workspace,
): Promise<Finding[]> {
  const findings: Finding[] = [];
  const { minFreeDiskMb, minFreeMemoryMb } = template.requirements;
  if (minFreeDiskMb !== undefined) {
    const free = await freeDiskMb(workspace.path);
    if (free < minFreeDiskMb) {
      findings.push(
        error(
          `${base}.requirements.minFreeDiskMb`,
          `${free} MB free on the workspace's disk; the template needs ${minFreeDiskMb} MB`,
          'Free disk space, or archive cells you no longer need.',
        ),
      );
    }
  }
  if (minFreeMemoryMb !== undefined) {
    const free = await availableMemoryMb();
    if (free < minFreeMemoryMb) {
      findings.push(
        error(
          `${base}.requirements.minFreeMemoryMb`,
          `${free} MB of memory available; the template needs ${minFreeMemoryMb} MB`,
          'Stop other cells or processes, or lower the requirement if it is too cautious.',
        ),
      );
    }
  }
  return findings;
}

export async function checkRepository(
  workspace: Workspace,
  baseRef: string,
  resolved: Promise<string | undefined> = resolveCommit(workspace.path, baseRef),
): Promise<Finding[]> {
  if (await resolved) return [];
  if (!(await isGitRepo(workspace.path))) {
    return [
      error(
        'workspace',
        `${workspace.path} is not a git repository`,
        'Run git init there, or register another path.',
      ),
    ];
  }
  return [
    error(
      'baseRef',
      `"${baseRef}" does not name a commit in ${workspace.path}`,
      'Use an existing branch, tag or commit (default HEAD needs at least one commit).',
    ),
  ];
}

/** Prompt files and folders exist and, with symlinks followed, stay inside the workspace. */
export async function checkPrompts(
  base: string,
  template: Template,
  workspace: Workspace,
): Promise<Finding[]> {
  const findings: Finding[] = [];
  for (const [i, prompt] of template.prompts.entries()) {
    const where = `${base}.prompts.${i}`;
    const outside = (file: string, real: string) =>
      error(where, `${file} is outside the workspace (it resolves to ${real})`, PROMPT_INSIDE_HINT);
    const found = await containedPath(workspace.path, prompt);
    if (!found.ok && found.reason === 'outside') {
      findings.push(outside(prompt, found.path));
    } else if (!found.ok) {
      findings.push(
        error(
          where,
          `prompt file or folder ${prompt} does not exist`,
          `Create ${found.path}, or remove it from prompts.`,
        ),
      );
    } else if ((await stat(found.path)).isDirectory()) {
      // A folder's fragments are read too: each must stay inside.
      for (const entry of await readdir(found.path)) {
        const inner = await containedPath(workspace.path, path.join(prompt, entry));
        if (!inner.ok && inner.reason === 'outside')
          findings.push(outside(path.join(prompt, entry), inner.path));
      }
    }
  }
  return findings;
}

/**
 * A service's `cwd` is relative to its worktree and stays inside it: checked here against the
 * workspace (the worktree's source), and again with symlinks followed when the service starts.
 */
export async function checkServiceDirs(
  base: string,
  enabled: Services,
  workspace: Workspace,
): Promise<Finding[]> {
  const findings: Finding[] = [];
  for (const [name, service] of enabled) {
    if (service.cwd === undefined) continue;
    const found = await containedPath(workspace.path, service.cwd);
    if (path.isAbsolute(service.cwd) || (!found.ok && found.reason === 'outside')) {
      findings.push(
        error(
          `${base}.services.${name}.cwd`,
          `${service.cwd} leaves the worktree`,
          'Give a folder of the repository, relative to its root (e.g. "packages/api").',
        ),
      );
    }
  }
  return findings;
}

/**
 * Every secret reference of the template and its enabled services resolves on this host (its value
 * is read and dropped: a finding names the variable and the reference, never a value).
 */
export async function checkSecrets(
  base: string,
  template: Template,
  enabled: Services,
  workspace: Workspace,
): Promise<Finding[]> {
  const findings: Finding[] = [];
  const envs: Array<[string, ServiceSpec['env']]> = [
    [base, template.env],
    ...enabled.map(([name, service]): [string, ServiceSpec['env']] => [
      `${base}.services.${name}`,
      service.env,
    ]),
  ];
  for (const [at, env] of envs) {
    for (const [variable, value] of Object.entries(env)) {
      if (!isSecret(value)) continue;
      try {
        await resolveSecret(variable, value.secret, { workspacePath: workspace.path });
      } catch (failure) {
        if (!(failure instanceof SecretUnavailable)) throw failure;
        findings.push(error(`${at}.env.${variable}`, failure.message, failure.hint));
      }
    }
  }
  return findings;
}
