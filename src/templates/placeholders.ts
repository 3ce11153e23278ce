// `$PORT` (the service's primary port), `$PORT:<service>` (another service's primary port),
// `$PORT:<service>.<port>` (a named port) and `$OPTION:<name>` (a template option's value).
// Resolution is plain substitution into strings from the trusted config: no shell involved.

const PLACEHOLDER = /\$PORT(?::([A-Za-z][\w-]*)(?:\.([A-Za-z][\w-]*))?)?(?![\w])|\$OPTION:([A-Za-z][\w-]*)/g;

export type PlaceholderRef =
  | { kind: 'port'; service?: string; port?: string; text: string }
  | { kind: 'option'; name: string; text: string };

export function findPlaceholders(text: string): PlaceholderRef[] {
  return [...text.matchAll(PLACEHOLDER)].map((m) =>
    m[3] !== undefined
      ? { kind: 'option', name: m[3], text: m[0] }
      : { kind: 'port', service: m[1], port: m[2], text: m[0] },
  );
}

export interface PlaceholderValues {
  /** The service whose string this is (for a bare $PORT); undefined for template-level strings. */
  self?: string;
  /** Port of `service.port`; `primary` of each service is its $PORT. */
  port(service: string, port?: string): number | undefined;
  option(name: string): string | number | boolean | undefined;
}

/** Replaces every placeholder; an unresolvable one throws (validation should have caught it). */
export function resolvePlaceholders(text: string, values: PlaceholderValues): string {
  return text.replace(PLACEHOLDER, (whole, service?: string, port?: string, option?: string) => {
    if (option !== undefined) {
      const value = values.option(option);
      if (value === undefined) throw new Error(`${whole}: no option "${option}"`);
      return String(value);
    }
    const target = service ?? values.self;
    const value = target === undefined ? undefined : values.port(target, port);
    if (value === undefined) throw new Error(`${whole}: no such port`);
    return String(value);
  });
}
