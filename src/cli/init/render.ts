// Writes a config draft as hive.config.jsonc: JSON with `//` comments where init has something to
// say. JSONC rather than TypeScript because a root .ts file joins a TypeScript project's compile (an
// unresolved 'hive-cells' import, a moved rootDir); the output is meant to be read and edited by people.

/** A value of the config, with optional comment lines before each key. */
export type Value = string | number | boolean | Value[] | Entries;
export interface Entry {
  key: string;
  value: Value;
  comment?: string[];
  /** Written commented out: a suggestion that would not work as it is. */
  disabled?: boolean;
}
export interface Entries {
  entries: Entry[];
}

/** A JSON string; U+2028/U+2029 escaped too, so an editor never shows a string broken across lines. */
const quote = (s: string) =>
  JSON.stringify(s)
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');

/** Comment text as `//` lines: a line break in it starts another comment line, never code. */
const commentLines = (text: string) => text.split(/\r\n|[\n\r\u2028\u2029]/);

function literal(value: Value, indent: string): string {
  if (typeof value === 'string') return quote(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    const items = value.map((v) => literal(v, `${indent}  `));
    const inline = `[${items.join(', ')}]`;
    if (inline.length + indent.length < 100 && !inline.includes('\n')) return inline;
    return `[\n${items.map((i) => `${indent}  ${i}`).join(',\n')}\n${indent}]`;
  }
  if (value.entries.length === 0) return '{}';
  const lines: string[] = [];
  // A comma after every entry but the last, commented-out ones too: uncommenting an entry anywhere
  // leaves valid JSONC (a live entry before commented-out ones keeps a trailing comma, which JSONC
  // as Hive and VS Code read it allows).
  for (const [i, entry] of value.entries.entries()) {
    const inner = `${indent}  `;
    for (const c of (entry.comment ?? []).flatMap(commentLines)) lines.push(`${inner}// ${c}`.trimEnd());
    const comma = i === value.entries.length - 1 ? '' : ',';
    const text = `${inner}${quote(entry.key)}: ${literal(entry.value, inner)}${comma}`;
    lines.push(
      entry.disabled
        ? text
            .split('\n')
            .map((l) => `${inner}// ${l.slice(inner.length)}`)
            .join('\n')
        : text,
    );
  }
  return `{\n${lines.join('\n')}\n${indent}}`;
}

/** The whole file: a header comment, then the config object. */
export function renderConfig(options: { header: string[]; config: Entries }): string {
  const header = options.header
    .flatMap(commentLines)
    .map((l) => `// ${l}`.trimEnd())
    .join('\n');
  return `${header}\n${literal(options.config, '')}\n`;
}
