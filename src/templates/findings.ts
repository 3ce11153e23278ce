import path from 'node:path';
import { z } from 'zod';

export const Finding = z.object({
  severity: z.enum(['error', 'warning']),
  path: z.string().describe('Where: a config path (templates.web.services.api.run), options.<name>, …'),
  message: z.string(),
  hint: z.string().describe('How to fix it'),
});
export type Finding = z.infer<typeof Finding>;

export const error = (path: string, message: string, hint: string): Finding => ({
  severity: 'error',
  path,
  message,
  hint,
});
export const warning = (path: string, message: string, hint: string): Finding => ({
  severity: 'warning',
  path,
  message,
  hint,
});

/**
 * A config file's problems as findings (what the dry run, the catalog and the API show). With
 * `root`, each message names the file relative to it, for reports that may mix several files.
 */
export function findingsFromProblems(
  problems: Array<{ file: string; path: string; message: string; hint: string }>,
  root?: string,
): Finding[] {
  return problems.map((p) =>
    error(p.path, root ? `${path.relative(root, p.file) || p.file}: ${p.message}` : p.message, p.hint),
  );
}
