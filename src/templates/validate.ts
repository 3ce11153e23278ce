import path from 'node:path';
import { checkCellLimits } from '../cgroups/notice.js';
import type { Workspace } from '../config/env.js';
import { isSecret } from '../secrets/refs.js';
import { checkPackageScripts, checkServiceCwds } from './baseFindings.js';
import { error, type Finding, findingsFromProblems } from './findings.js';
import { resolveCommit } from './hostChecks.js';
import {
  checkCapacity,
  checkPorts,
  checkPrompts,
  checkRepository,
  checkSecrets,
  checkServiceDirs,
} from './hostFindings.js';
import type { LoadedConfig } from './loader.js';
import {
  autoPortOf,
  enabledServices,
  findCycle,
  type OptionValues,
  optionsSchema,
  portsOf,
} from './model.js';
import { findPlaceholders } from './placeholders.js';
import {
  checkCommandPrograms,
  checkContainers,
  checkDatabases,
  checkExecutables,
} from './programFindings.js';
import type { ServiceSpec, Template } from './schema.js';

export interface ValidationRequest {
  workspace: Workspace;
  loaded: LoadedConfig;
  templateId: string;
  options?: Record<string, unknown>;
  baseRef?: string;
  /**
   * Whether to check the real host too (executables, ports, capacity, repository, files, secrets).
   * The API's dry run does; the workflow's validate step skips them when that dry run just passed.
   */
  hostChecks?: boolean;
}

export interface ValidationResult {
  ok: boolean;
  findings: Finding[];
  template?: Template;
  /** Options with defaults applied; present when they are valid. */
  options?: OptionValues;
  /** The commit the base ref names, when the host checks resolved it (the plan starts there). */
  baseCommit?: string;
}

type Services = Array<[string, ServiceSpec]>;

function checkOptions(template: Template, options: Record<string, unknown>, workspaceId: string) {
  const parsed = optionsSchema(template).safeParse(options);
  if (parsed.success) return { findings: [], values: parsed.data as OptionValues };
  const findings = parsed.error.issues.map((issue) => {
    const key = issue.code === 'unrecognized_keys' ? issue.keys.join(', ') : issue.path.map(String).join('.');
    return error(
      `options.${key}`,
      issue.code === 'unrecognized_keys' ? `unknown option ${key}` : issue.message,
      `Valid options: ${Object.keys(template.options).join(', ') || '(none)'}; GET /templates/${template.id}?workspace=${workspaceId} shows their schema.`,
    );
  });
  return { findings, values: undefined };
}

function checkGraph(base: string, all: Services, enabled: Services, databases: string[]): Finding[] {
  const findings: Finding[] = [];
  // A database is ready before any service starts: depending on it is always satisfied.
  const names = new Set([...all.map(([n]) => n), ...databases]);
  const on = new Set([...enabled.map(([n]) => n), ...databases]);
  for (const [name, service] of enabled) {
    for (const dep of Object.keys(service.dependsOn)) {
      if (!names.has(dep)) {
        findings.push(
          error(
            `${base}.services.${name}.dependsOn.${dep}`,
            `depends on "${dep}", which is not a service of this template`,
            `Use one of: ${[...names].join(', ')}.`,
          ),
        );
      } else if (!on.has(dep)) {
        findings.push(
          error(
            `${base}.services.${name}.dependsOn.${dep}`,
            `depends on "${dep}", which these options disable`,
            `Change the options so ${dep} is enabled, or drop the dependency.`,
          ),
        );
      }
    }
  }
  const cycle = findCycle(enabled);
  if (cycle) {
    findings.push(
      error(
        `${base}.services.${cycle[0]}.dependsOn`,
        `dependency cycle: ${cycle.join(' → ')}`,
        'Remove one of these dependsOn entries so services can start in order.',
      ),
    );
  }
  return findings;
}

function checkPlaceholders(base: string, template: Template, enabled: Services): Finding[] {
  const findings: Finding[] = [];
  const services = new Map(enabled);
  const check = (where: string, text: string, self?: string) => {
    for (const ref of findPlaceholders(text)) {
      if (ref.kind === 'option') {
        if (!(ref.name in template.options)) {
          findings.push(
            error(
              where,
              `${ref.text} names no option`,
              `Define options.${ref.name} in the template, or fix the name.`,
            ),
          );
        }
        continue;
      }
      const target = ref.service ?? self;
      if (target === undefined) {
        findings.push(
          error(where, '$PORT has no service here', 'Use $PORT:<service> outside a service definition.'),
        );
        continue;
      }
      const service = services.get(target);
      if (!service) {
        findings.push(
          error(
            where,
            `${ref.text} refers to "${target}", which is not an enabled service`,
            `Use one of: ${[...services.keys()].join(', ') || '(no services)'}.`,
          ),
        );
      } else if (ref.port !== undefined && !(ref.port in portsOf(service))) {
        findings.push(
          error(
            where,
            `${ref.text}: ${target} has no port "${ref.port}"`,
            `Ports of ${target}: ${Object.keys(portsOf(service)).join(', ') || '(none)'}.`,
          ),
        );
      } else if (Object.keys(portsOf(service)).length === 0) {
        findings.push(error(where, `${ref.text}: ${target} has no ports`, `Declare a port on ${target}.`));
      } else if (autoPortOf(service) !== undefined) {
        // Commands are resolved before any service runs; the port is known only once it listens.
        findings.push(
          error(
            where,
            `${ref.text}: the port of ${target} is "auto", chosen by ${target} once it runs`,
            `Read ${target.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_PORT or _URL from the environment instead, in a service that dependsOn ${target}: healthy (set once it is ready).`,
          ),
        );
      }
    }
  };
  for (const [key, value] of Object.entries(template.env))
    if (!isSecret(value)) check(`${base}.env.${key}`, value);
  // Template-level commands get the same placeholders as services' (only $PORT:<service> forms).
  template.setup.forEach((cmd, i) => {
    check(`${base}.setup.${i}`, cmd);
  });
  template.teardown.forEach((cmd, i) => {
    check(`${base}.teardown.${i}`, cmd);
  });
  for (const [name, service] of enabled) {
    const at = `${base}.services.${name}`;
    if (autoPortOf(service) !== undefined && Object.keys(portsOf(service)).length > 1) {
      findings.push(
        error(
          `${at}.ports`,
          'an "auto" port must be the service\'s only port',
          'Hive adopts the one port the service listens on: drop its other ports, or allocate them all ("any") and pass them to its command.',
        ),
      );
    }
    check(`${at}.run`, service.run, name);
    for (const [key, value] of Object.entries(service.env))
      if (!isSecret(value)) check(`${at}.env.${key}`, value, name);
    service.setup.forEach((cmd, i) => {
      check(`${at}.setup.${i}`, cmd, name);
    });
    if (service.stop !== undefined) check(`${at}.stop`, service.stop, name);
    const probe = service.readiness;
    if (
      probe &&
      (probe.type === 'tcp' || probe.type === 'http') &&
      probe.port &&
      !(probe.port in portsOf(service))
    ) {
      findings.push(
        error(
          `${at}.readiness.port`,
          `no port named "${probe.port}"`,
          `Use one of: ${Object.keys(portsOf(service)).join(', ')}.`,
        ),
      );
    }
    if (probe?.type === 'log') {
      try {
        new RegExp(probe.pattern);
      } catch (e) {
        findings.push(
          error(`${at}.readiness.pattern`, `not a regular expression: ${String(e)}`, 'Fix the pattern.'),
        );
      }
    }
  }
  return findings;
}

/**
 * The dry run: everything that can be known before provisioning, read from the config and the real
 * host, changing nothing. POST /cells runs it first and the workflow runs it again at run time.
 */
export async function validateTemplate(request: ValidationRequest): Promise<ValidationResult> {
  const { workspace, loaded } = request;
  if (!loaded.ok) return { ok: false, findings: findingsFromProblems(loaded.problems, workspace.path) };
  const template = loaded.templates.find((t) => t.id === request.templateId);
  if (!template) {
    return {
      ok: false,
      findings: [
        error(
          'template',
          `no template "${request.templateId}" in ${path.basename(loaded.file)}`,
          `Use one of: ${loaded.templates.map((t) => t.id).join(', ') || '(none defined)'}.`,
        ),
      ],
    };
  }
  const base = `templates.${template.id}`;
  const options = checkOptions(template, request.options ?? {}, workspace.id);
  const all = Object.entries(template.services);
  const enabled = options.values ? enabledServices(template, options.values) : all;
  // One git process for the base commit: the repository check's, and the plan's when this is the
  // API's dry run of a request planned at once (src/cells/create.ts).
  const resolved =
    request.hostChecks === false ? undefined : resolveCommit(workspace.path, request.baseRef ?? 'HEAD');
  const findings = [
    ...options.findings,
    ...checkGraph(base, all, enabled, Object.keys(template.databases)),
    ...checkPlaceholders(base, template, enabled),
    ...checkContainers(base, template),
    ...(resolved ? await hostChecks(base, template, enabled, workspace, request.baseRef, resolved) : []),
  ];
  const baseCommit = await resolved;
  return {
    ok: !findings.some((f) => f.severity === 'error'),
    findings,
    template,
    options: options.values,
    ...(baseCommit ? { baseCommit } : {}),
  };
}

/** The dry run's read-only checks of the real host. */
async function hostChecks(
  base: string,
  template: Template,
  enabled: Services,
  workspace: Workspace,
  baseRef: string | undefined,
  resolved: Promise<string | undefined>,
): Promise<Finding[]> {
  return (
    await Promise.all([
      checkExecutables(base, template),
      checkCommandPrograms(base, template, enabled),
      checkDatabases(base, template),
      checkPorts(base, enabled),
      checkCapacity(base, template, workspace),
      checkRepository(workspace, baseRef ?? 'HEAD', resolved),
      checkPrompts(base, template, workspace),
      checkServiceDirs(base, enabled, workspace),
      checkServiceCwds(base, template, enabled, workspace, baseRef ?? 'HEAD'),
      checkPackageScripts(base, template, enabled, workspace, baseRef ?? 'HEAD'),
      checkSecrets(base, template, enabled, workspace),
      checkCellLimits(base),
    ])
  ).flat();
}
