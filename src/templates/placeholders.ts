// `$PORT` (the service's primary port), `$PORT:<service>` (another service's primary port),
// `$PORT:<service>.<port>` (a named port) and `$OPTION:<name>` (a template option's value).
//
// Option values come from requests: they are data, never code. In a command line (run, setup,
// teardown, stop, exec probe), `$OPTION:<name>` becomes a reference to a double-quoted shell
// variable, `"${HIVE_OPTION_<NAME>}"`, whose value the command receives in its environment; the
// shell never parses the value. Ports are numbers Hive allocated, substituted as they are. In env
// values (data, not commands) every placeholder is substituted as text.

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

/** The environment variable that carries an option's value to commands: `HIVE_OPTION_<NAME>`. */
export const optionVariable = (name: string) =>
  `HIVE_OPTION_${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;

export interface PlaceholderValues {
  /** The service whose string this is (for a bare $PORT); undefined for template-level strings. */
  self?: string;
  /** Port of `service.port`; `primary` of each service is its $PORT. */
  port(service: string, port?: string): number | undefined;
  option(name: string): string | number | boolean | undefined;
}

/**
 * Replaces every placeholder; an unresolvable one throws (validation should have caught it). In
 * `command` mode an option becomes a quoted variable reference (see above), in `text` mode its value.
 */
export function resolvePlaceholders(
  text: string,
  values: PlaceholderValues,
  mode: 'command' | 'text' = 'text',
): string {
  const quoting = mode === 'command' ? quoteStates(text) : undefined;
  return text.replace(PLACEHOLDER, (whole, service?: string, port?: string, option?: string, at?: number) => {
    if (option !== undefined) {
      const value = values.option(option);
      if (value === undefined) throw new Error(`${whole}: no option "${option}"`);
      if (!quoting) return String(value);
      const variable = `\${${optionVariable(option)}}`;
      // Quoted wherever it stands, so the value is one word and never parsed.
      const state = quoting[at ?? 0];
      return state === 'double' ? variable : state === 'single' ? `'"${variable}"'` : `"${variable}"`;
    }
    const target = service ?? values.self;
    const value = target === undefined ? undefined : values.port(target, port);
    if (value === undefined) throw new Error(`${whole}: no such port`);
    return String(value);
  });
}

/** The shell quoting in force at each character of a command line: none, inside '…' or inside "…". */
function quoteStates(command: string): Array<'none' | 'single' | 'double'> {
  const states: Array<'none' | 'single' | 'double'> = [];
  let state: 'none' | 'single' | 'double' = 'none';
  for (let i = 0; i < command.length; i++) {
    const c = command[i];
    states[i] = state;
    if (state !== 'single' && c === '\\') {
      states[i + 1] = state;
      i++;
    } else if (state === 'none' && (c === "'" || c === '"')) state = c === "'" ? 'single' : 'double';
    else if ((state === 'single' && c === "'") || (state === 'double' && c === '"')) state = 'none';
  }
  return states;
}
