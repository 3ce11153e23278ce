import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { writeCellFile } from '../cells/containedFiles.js';

/** A stable fingerprint of what a piece of work depends on. */
export const fingerprintOf = (inputs: unknown) =>
  createHash('sha256').update(JSON.stringify(inputs)).digest('hex');

/**
 * Runs `fn` unless the marker file already holds `fingerprint` (it succeeded before with the same
 * inputs), then writes the marker. This is how setup work stays idempotent when Temporal runs an
 * activity twice: a second run converges without repeating commands.
 */
export async function runOnce(
  marker: string,
  fingerprint: string,
  fn: () => Promise<void>,
): Promise<boolean> {
  if ((await readFile(marker, 'utf8').catch(() => '')) === fingerprint) return false;
  await fn();
  await writeCellFile(marker, fingerprint);
  return true;
}
