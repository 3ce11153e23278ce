import { randomBytes } from 'node:crypto';
import { cellWorkflowId } from './workflowIds.js';

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

/**
 * Cell ids become directory names (`.cells/<id>`), branch names (`cell/<id>`) and workflow ids, so
 * they are short, lowercase and safe in all three. 12 chars of base36 ≈ 62 bits of randomness.
 */
export function newCellId(): string {
  const bytes = randomBytes(12);
  let id = 'c';
  for (let i = 0; i < 11; i++) id += ALPHABET[(bytes[i] ?? 0) % ALPHABET.length];
  return id;
}

export const cellIdPattern = /^c[a-z0-9]{11}$/;

export const workflowIdFor = cellWorkflowId;
