// The format of a cell's `.hive/env`, both ways: the environment step writes it, the API and the
// CLI read it or print its lines. Plain text functions, no I/O.

/**
 * One line of `.hive/env`. Values come from requests too, so they are single-quoted (a `'` inside
 * written as `'\''`): sourcing the file with `. .hive/env` never expands or runs anything, and
 * dotenv parsers read single-quoted values literally.
 */
export function dotenvLine(key: string, value: string): string {
  return /^[\w@%+=:,./-]*$/.test(value) ? `${key}=${value}` : `${key}='${value.replaceAll("'", "'\\''")}'`;
}

/**
 * Parses `.hive/env` as the environment step writes it (see `dotenvLine`): `KEY=value`, or
 * `KEY='value'` with a `'` inside written as `'\''` — the shell's own quoting, so a quoted value may
 * span lines. Values are taken literally: nothing expands.
 */
export function parseEnvFile(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  const entry = /([A-Za-z_][A-Za-z0-9_]*)=/y;
  let at = 0;
  while (at < text.length) {
    entry.lastIndex = at;
    const match = entry.exec(text);
    if (!match) {
      at = text.indexOf('\n', at) + 1 || text.length; // not an assignment: skip the line
      continue;
    }
    at = entry.lastIndex;
    let value = '';
    // Unquoted runs and single-quoted runs, back to back (`'a'\''b'` is a, an escaped ', then b).
    while (at < text.length && text[at] !== '\n') {
      if (text[at] === "'") {
        const close = text.indexOf("'", at + 1);
        const end = close < 0 ? text.length : close;
        value += text.slice(at + 1, end);
        at = end + 1;
      } else if (text[at] === '\\' && text[at + 1] === "'") {
        value += "'";
        at += 2;
      } else {
        value += text[at];
        at++;
      }
    }
    env[match[1] as string] = value;
    at++;
  }
  return env;
}
