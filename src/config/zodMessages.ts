import { z } from 'zod';

/**
 * Messages people can act on. Zod's default for a missing field is "expected string, received
 * undefined"; say "is required" instead. Imported once by every module that defines API schemas.
 */
z.config({
  customError: (issue) =>
    issue.code === 'invalid_type' && issue.input === undefined ? 'is required' : undefined,
});
