import { stat } from 'node:fs/promises';
import path from 'node:path';
import semver from 'semver';
import type { Workspace } from '../config/env.js';
import { error, type Finding, warning } from './findings.js';
import {
  availableMemoryMb,
  freeDiskMb,
  freePortsInRange,
  isGitRepo,
  isPortFree,
  portHolder,
  probeExecutable,
  resolveCommit,
} from './hostChecks.js';
import type { LoadedConfig } from './loader.js';
import { enabledServices, findCycle, type OptionValues, optionsSchema, portsOf } from './model.js';
import { findPlaceholders } from './placeholders.js';
import type { ServiceSpec, Template } from './schema.js';

export interface ValidationRequest {
  workspace: Workspace;
  loaded: LoadedConfig;
  templateId: string;
  options?: Record<string, unknown>;
  baseRef?: string;
}

export interface ValidationResult {
  ok: boolean;
  findings: Finding[];
  template?: Template;
  /** Options with defaults applied; present when they are valid. */
  options?: OptionValues;
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

function checkGraph(base: string, all: Services, enabled: Services): Finding[] {
  const findings: Finding[] = [];
  const names = new Set(all.map(([n]) => n));
  const on = new Set(enabled.map(([n]) => n));
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
      }
    }
  };
  for (const [key, value] of Object.entries(template.env)) check(`${base}.env.${key}`, value);
  // Template-level commands get the same placeholders as services' (only $PORT:<service> forms).
  template.setup.forEach((cmd, i) => {
    check(`${base}.setup.${i}`, cmd);
  });
  template.teardown.forEach((cmd, i) => {
    check(`${base}.teardown.${i}`, cmd);
  });
  for (const [name, service] of enabled) {
    const at = `${base}.services.${name}`;
    check(`${at}.run`, service.run, name);
    for (const [key, value] of Object.entries(service.env)) check(`${at}.env.${key}`, value, name);
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

async function checkExecutables(base: string, template: Template): Promise<Finding[]> {
  const checks = Object.entries(template.requirements.executables).map(async ([name, range]) => {
    const where = `${base}.requirements.executables.${name}`;
    if (!semver.validRange(range)) {
      return [error(where, `"${range}" is not a semver range`, 'Write a range such as ">=14" or "^20.1".')];
    }
    const found = await probeExecutable(name);
    if (!found.path) {
      return [
        error(where, `${name} is not on PATH`, `Install ${name} (${range}) or add its folder to PATH.`),
      ];
    }
    if (!found.version) {
      return range === '*'
        ? []
        : [warning(where, `could not read the version of ${found.path}`, `Make sure it satisfies ${range}.`)];
    }
    if (!semver.satisfies(found.version, range)) {
      return [
        error(
          where,
          `${name} ${found.version} at ${found.path} does not satisfy ${range}`,
          `Install a version matching ${range}, or put it first on PATH.`,
        ),
      ];
    }
    return [];
  });
  return (await Promise.all(checks)).flat();
}

async function checkPorts(base: string, enabled: Services): Promise<Finding[]> {
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

async function checkCapacity(base: string, template: Template, workspace: Workspace): Promise<Finding[]> {
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

async function checkRepository(workspace: Workspace, baseRef: string): Promise<Finding[]> {
  if (!(await isGitRepo(workspace.path))) {
    return [
      error(
        'workspace',
        `${workspace.path} is not a git repository`,
        'Run git init there, or register another path.',
      ),
    ];
  }
  if (!(await resolveCommit(workspace.path, baseRef))) {
    return [
      error(
        'baseRef',
        `"${baseRef}" does not name a commit in ${workspace.path}`,
        'Use an existing branch, tag or commit (default HEAD needs at least one commit).',
      ),
    ];
  }
  return [];
}

async function checkPrompts(base: string, template: Template, workspace: Workspace): Promise<Finding[]> {
  const findings: Finding[] = [];
  for (const [i, prompt] of template.prompts.entries()) {
    const full = path.resolve(workspace.path, prompt);
    const inside = full === workspace.path || full.startsWith(`${workspace.path}${path.sep}`);
    if (!inside) {
      findings.push(
        error(
          `${base}.prompts.${i}`,
          `${prompt} is outside the workspace`,
          'Keep prompt files inside the workspace.',
        ),
      );
    } else if (!(await stat(full).catch(() => undefined))) {
      findings.push(
        error(
          `${base}.prompts.${i}`,
          `prompt file or folder ${prompt} does not exist`,
          `Create ${full}, or remove it from prompts.`,
        ),
      );
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
  if (!loaded.ok) {
    const findings = loaded.problems.map((p) =>
      error(p.path, `${path.relative(workspace.path, p.file) || p.file}: ${p.message}`, p.hint),
    );
    return { ok: false, findings };
  }
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
  const findings = [
    ...options.findings,
    ...checkGraph(base, all, enabled),
    ...checkPlaceholders(base, template, enabled),
    ...(
      await Promise.all([
        checkExecutables(base, template),
        checkPorts(base, enabled),
        checkCapacity(base, template, workspace),
        checkRepository(workspace, request.baseRef ?? 'HEAD'),
        checkPrompts(base, template, workspace),
      ])
    ).flat(),
  ];
  return {
    ok: !findings.some((f) => f.severity === 'error'),
    findings,
    template,
    options: options.values,
  };
}
