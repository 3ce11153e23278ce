import { z } from 'zod';
import type { OptionSpec, PortSpec, ServiceSpec, Template } from './schema.js';

export type OptionValues = Record<string, string | number | boolean>;

/** A string option: its declared constraints (values are data anyway; these keep them sensible). */
function stringType(spec: Extract<OptionSpec, { type: 'string' }>): z.ZodType {
  if (spec.values) return z.enum(spec.values as [string, ...string[]]);
  let type = z.string();
  if (spec.maxLength !== undefined) type = type.max(spec.maxLength);
  if (spec.pattern !== undefined)
    type = type.regex(new RegExp(spec.pattern, 'u'), `must match ${spec.pattern}`);
  return type;
}

function optionType(spec: OptionSpec) {
  const base: z.ZodType =
    spec.type === 'string'
      ? stringType(spec)
      : spec.type === 'number'
        ? z.number()
        : spec.type === 'boolean'
          ? z.boolean()
          : z.enum(spec.values as [string, ...string[]]);
  const described = spec.description ? base.describe(spec.description) : base;
  return spec.default === undefined ? described : described.default(spec.default);
}

/** The template's options as a zod schema (validation) — and, through it, as JSON Schema (docs). */
export function optionsSchema(template: Template) {
  return z
    .object(Object.fromEntries(Object.entries(template.options).map(([k, spec]) => [k, optionType(spec)])))
    .strict();
}

export function optionsJsonSchema(template: Template) {
  return z.toJSONSchema(optionsSchema(template), { io: 'input' });
}

/** Services enabled under these option values (enabledWhen). */
export function enabledServices(template: Template, options: OptionValues): Array<[string, ServiceSpec]> {
  return Object.entries(template.services).filter(([, service]) => {
    const when = service.enabledWhen;
    if (!when) return true;
    const value = options[when.option];
    return when.equals === undefined ? Boolean(value) : value === when.equals;
  });
}

/** Named ports of a service: declared ones, or one free port named `primary` by default. */
export function portsOf(service: ServiceSpec): Record<string, PortSpec> {
  return service.ports ?? { primary: 'any' };
}

/** The name of a service's `auto` port (the service chooses it; Hive adopts it), if it has one. */
export function autoPortOf(service: ServiceSpec): string | undefined {
  return Object.entries(portsOf(service)).find(([, spec]) => spec === 'auto')?.[0];
}

/** The port `$PORT` means: the one named `primary`, else the first declared. */
export function primaryPortName(service: ServiceSpec): string | undefined {
  const names = Object.keys(portsOf(service));
  return names.includes('primary') ? 'primary' : names[0];
}

/** Start order in waves: each wave's services depend only on earlier waves. Throws on a cycle. */
export function startWaves(services: Array<[string, ServiceSpec]>): string[][] {
  const remaining = new Map(services.map(([n, s]) => [n, Object.keys(s.dependsOn)]));
  const waves: string[][] = [];
  const done = new Set<string>();
  while (remaining.size > 0) {
    const wave = [...remaining].filter(([, deps]) => deps.every((d) => done.has(d))).map(([n]) => n);
    if (wave.length === 0) throw new Error(`dependency cycle among: ${[...remaining.keys()].join(', ')}`);
    for (const n of wave) {
      remaining.delete(n);
      done.add(n);
    }
    waves.push(wave);
  }
  return waves;
}

/** One cycle as a path a → b → a, or undefined when the graph is acyclic. */
export function findCycle(services: Array<[string, ServiceSpec]>): string[] | undefined {
  const deps = new Map(services.map(([n, s]) => [n, Object.keys(s.dependsOn)]));
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (n: string): string[] | undefined => {
    if (state.get(n) === 'done' || !deps.has(n)) return undefined;
    if (state.get(n) === 'visiting') return [...stack.slice(stack.indexOf(n)), n];
    state.set(n, 'visiting');
    stack.push(n);
    for (const d of deps.get(n) ?? []) {
      const cycle = visit(d);
      if (cycle) return cycle;
    }
    stack.pop();
    state.set(n, 'done');
    return undefined;
  };
  for (const n of deps.keys()) {
    const cycle = visit(n);
    if (cycle) return cycle;
  }
  return undefined;
}
