/** Values shorter than this are not redacted: masking "1" or "on" everywhere would garble logs. */
const MIN_SECRET_LENGTH = 4;

/**
 * Replaces every occurrence of a known secret value with `[secret NAME]`: for log lines streamed
 * over SSE and log tails kept in failures (which reach the database, the API and history).
 */
export function redactor(secrets: Record<string, string>): (text: string) => string {
  const known = Object.entries(secrets)
    .filter(([, value]) => value.length >= MIN_SECRET_LENGTH)
    // Longest first, so a secret that contains another is masked whole.
    .sort(([, a], [, b]) => b.length - a.length);
  if (known.length === 0) return (text) => text;
  return (text) => known.reduce((out, [name, value]) => out.replaceAll(value, `[secret ${name}]`), text);
}
