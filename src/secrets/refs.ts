// Secret env values are references (`env:NAME` from Hive's own environment, `file:PATH`), resolved
// only where a process is spawned. Why references rather than an encrypting payload codec: the
// value then exists nowhere but in Hive's environment (or the file) and in the processes that need
// it — not in the config (committed to git), the plan, Temporal history, the database or the API —
// and a rotated secret takes effect at the next start without touching history. Plain constants
// and functions over strings: the workflow bundle may import the types.
import { readFile } from 'node:fs/promises';
import path from 'node:path';

/** `{ secret: 'env:NAME' }` or `{ secret: 'file:PATH' }` in place of an env value. */
export interface SecretValue {
  secret: string;
}
export type EnvValue = string | SecretValue;

export const SECRET_REF_PATTERN = /^(env:[A-Za-z_][A-Za-z0-9_]*|file:.+)$/;

export const isSecret = (value: EnvValue): value is SecretValue => typeof value === 'object';

export class SecretUnavailable extends Error {
  override name = 'SecretUnavailable';
  constructor(
    readonly variable: string,
    readonly ref: string,
    message: string,
    readonly hint: string,
  ) {
    super(message);
  }
}

/**
 * The value a reference names. `file:` paths are absolute or relative to the workspace; the file's
 * content without its final newline is the value.
 */
export async function resolveSecret(
  variable: string,
  ref: string,
  { workspacePath, env = process.env }: { workspacePath: string; env?: NodeJS.ProcessEnv },
): Promise<string> {
  if (ref.startsWith('env:')) {
    const name = ref.slice('env:'.length);
    const value = env[name];
    if (value === undefined || value === '') {
      throw new SecretUnavailable(
        variable,
        ref,
        `secret ${variable}: ${name} is not set in Hive's environment`,
        `Set ${name} in the environment of hive up (or of the worker), then retry.`,
      );
    }
    return value;
  }
  const file = path.resolve(workspacePath, ref.slice('file:'.length));
  try {
    return (await readFile(file, 'utf8')).replace(/\r?\n$/, '');
  } catch (error) {
    throw new SecretUnavailable(
      variable,
      ref,
      `secret ${variable}: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
      `Create ${file} readable by the user Hive runs as, then retry.`,
    );
  }
}

/** Every secret reference by variable name, resolved. */
export async function resolveSecrets(
  refs: Record<string, string>,
  options: { workspacePath: string; env?: NodeJS.ProcessEnv },
): Promise<Record<string, string>> {
  const values: Record<string, string> = {};
  for (const [name, ref] of Object.entries(refs)) values[name] = await resolveSecret(name, ref, options);
  return values;
}
