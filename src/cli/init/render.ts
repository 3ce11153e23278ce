// Writes TypeScript source for a config draft: plain object literals with single-quoted strings and
// comments where init has something to say. The output is meant to be read and edited by people.

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

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

const quote = (s: string) => {
  // Double quotes when that spares escaping (shell commands often hold single quotes).
  const mark = s.includes("'") && !s.includes('"') ? '"' : "'";
  return `${mark}${s
    .replace(/\\/g, '\\\\')
    .replace(mark === "'" ? /'/g : /"/g, `\\${mark}`)
    .replace(/\n/g, '\\n')
    .replace(/\r/g, '\\r')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029')}${mark}`;
};

/** Comment text as `//` lines: a line break in it starts another comment line, never code. */
const commentLines = (text: string) => text.split(/\r\n|[\n\r\u2028\u2029]/);
const keyOf = (k: string) => (IDENTIFIER.test(k) ? k : quote(k));

function literal(value: Value, indent: string): string {
  if (typeof value === 'string') return quote(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    const items = value.map((v) => literal(v, `${indent}  `));
    const inline = `[${items.join(', ')}]`;
    if (inline.length + indent.length < 100 && !inline.includes('\n')) return inline;
    return `[\n${items.map((i) => `${indent}  ${i},`).join('\n')}\n${indent}]`;
  }
  if (value.entries.length === 0) return '{}';
  const lines: string[] = [];
  for (const entry of value.entries) {
    const inner = `${indent}  `;
    for (const c of (entry.comment ?? []).flatMap(commentLines)) lines.push(`${inner}// ${c}`.trimEnd());
    const text = `${inner}${keyOf(entry.key)}: ${literal(entry.value, inner)},`;
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

/** The whole file: a header comment and `export default defineConfig(…)`. */
export function renderConfig(options: { header: string[]; config: Entries }): string {
  const parts = [
    options.header
      .flatMap(commentLines)
      .map((l) => `// ${l}`.trimEnd())
      .join('\n'),
    "import { defineConfig } from 'hive-cells';",
  ];
  parts.push(`export default defineConfig(${literal(options.config, '')});`);
  return `${parts.join('\n\n')}\n`;
}
