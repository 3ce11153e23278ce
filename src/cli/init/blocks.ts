import type { Entries, Entry, Value } from './render.js';

// The pieces every part of the draft is built from: config entries, service blocks, and the
// rules for names and comment text that come from the repository.

export const entry = (key: string, value: Value, comment?: string[], disabled?: boolean): Entry => ({
  key,
  value,
  comment,
  disabled,
});

export const obj = (...entries: Array<Entry | undefined | false>): Entries => ({
  entries: entries.filter((e): e is Entry => Boolean(e)),
});

const SERVICE_NAME = /^[a-zA-Z][a-zA-Z0-9_-]{0,62}$/;

/** A service name the schema accepts, from a folder, compose or Procfile name. */
export const serviceName = (name: string) => {
  const cleaned = name.replace(/[^a-zA-Z0-9_-]/g, '-').replace(/^[^a-zA-Z]+/, '');
  return SERVICE_NAME.test(cleaned) ? cleaned : `svc-${cleaned || 'x'}`.slice(0, 63);
};

/** How Hive names a service in variables (`<NAME>_PORT`, `<NAME>_URL`): see activities/environment.ts. */
export const envName = (service: string) => service.toUpperCase().replace(/[^A-Z0-9]/g, '_');

/**
 * Repository text shown in a comment of the written config: one line, no control characters, so it
 * can never end the comment and become code.
 */
export const commentText = (text: string, max = 120) => {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: removing them is the point
  const line = text.replace(/[\u0000-\u001f\u007f\u2028\u2029]+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
};

/** One service of the draft. */
export interface ServiceBlock {
  name: string;
  entry: Entry;
  /** Template-level env this service offers to the others (e.g. REDIS_URL). */
  env?: Record<string, string>;
  /** A database or cache the apps wait for, rather than an app. */
  provider?: boolean;
  /** Environment variables Hive gives this service's process, to keep out of a copied `.env`. */
  provides?: string[];
}

/** Makes `name` unique among `taken` (adding -2, -3…), and takes it. */
export function uniqueName(name: string, taken: Set<string>): string {
  let candidate = name;
  for (let i = 2; taken.has(candidate); i++) candidate = `${name}-${i}`;
  taken.add(candidate);
  return candidate;
}

/** One shell word: as it is when it is plain, else single-quoted (a `'` inside as `'\''`). */
export const shellWord = (word: string) =>
  /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`;
