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
