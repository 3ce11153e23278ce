import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { Finding } from '../templates/findings.js';

/** One offending field, as in RFC 9457's example: a JSON pointer into the request part. */
export const ProblemFieldError = z.object({
  pointer: z.string().describe('JSON pointer to the field, e.g. #/brief'),
  detail: z.string(),
});

/** RFC 9457 problem details; the only error shape this API answers with. */
export const Problem = z.object({
  type: z.string().describe('URI identifying the problem type'),
  title: z.string(),
  status: z.number().int(),
  detail: z.string().describe('What was wrong and how to fix it'),
  instance: z.string().optional(),
  errors: z.array(ProblemFieldError).optional(),
  findings: z.array(Finding).optional().describe('Template validation findings, when they are the cause'),
  currentState: z.string().optional().describe("The cell's state, when the request did not fit it"),
  allowedActions: z.array(z.string()).optional().describe("What the cell's state allows instead"),
});
export type Problem = z.infer<typeof Problem>;

export const problemType = (slug: string) => `urn:hive-cells:problem:${slug}`;

/** Thrown by handlers; the error handler turns it into a problem+json response. */
export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly slug: string,
    readonly title: string,
    readonly detail: string,
    readonly extra: Partial<Problem> = {},
  ) {
    super(detail);
  }
}

/** The one answer for a cell id that names no cell. */
export const cellNotFound = (id: string) =>
  new HttpProblem(404, 'cell-not-found', 'Cell not found', `No cell has id "${id}". GET /cells lists them.`);

/** The one answer for a host id that names no registered host. */
export const hostNotFound = (id: string) =>
  new HttpProblem(
    404,
    'host-not-found',
    'Host not found',
    `No host has id "${id}". GET /hosts (hive hosts ls) lists the registered hosts.`,
  );

/** A cell has no service of that name: the one answer, naming the services it has. */
export const serviceNotFound = (cellId: string, service: string, names: string[], none = '(none)') =>
  new HttpProblem(
    404,
    'service-not-found',
    'Service not found',
    `Cell ${cellId} has no service "${service}". Its services: ${names.join(', ') || none}.`,
  );

export function sendProblem(
  reply: FastifyReply,
  request: FastifyRequest,
  problem: Omit<Problem, 'instance'>,
) {
  return reply
    .code(problem.status)
    .type('application/problem+json')
    .send({ ...problem, instance: request.url });
}

/** Fastify's own 4xx errors (content type, size) mapped to actionable problems (JSON: see jsonBody.ts). */
const frameworkProblems: Record<string, { slug: string; title: string; hint: string }> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: {
    slug: 'unsupported-media-type',
    title: 'Unsupported media type',
    hint: 'Send the body as JSON with the header Content-Type: application/json.',
  },
  FST_ERR_CTP_BODY_TOO_LARGE: {
    slug: 'body-too-large',
    title: 'Request body too large',
    hint: 'Shorten the request body (the brief is the usual culprit).',
  },
};

export function problemFromError(error: FastifyError): Omit<Problem, 'instance'> {
  if (error instanceof HttpProblem) {
    return {
      type: problemType(error.slug),
      title: error.title,
      status: error.status,
      detail: error.detail,
      ...error.extra,
    };
  }
  if (hasZodFastifySchemaValidationErrors(error)) {
    const part = error.validationContext ?? 'body';
    const errors = error.validation.map((issue) => ({
      pointer: issue.instancePath === '/' ? '#' : `#${issue.instancePath}`,
      detail: issue.message ?? 'invalid',
    }));
    return {
      type: problemType('validation-failed'),
      title: 'Request validation failed',
      status: 400,
      detail: `The request ${part} is invalid: ${errors
        .map((e) => `${e.pointer === '#' ? part : e.pointer.slice(2)}: ${e.detail}`)
        .join('; ')}. Fix the listed fields and send it again.`,
      errors,
    };
  }
  const known = error.code ? frameworkProblems[error.code] : undefined;
  if (known) {
    return {
      type: problemType(known.slug),
      title: known.title,
      status: error.statusCode ?? 400,
      detail: `${error.message}. ${known.hint}`,
    };
  }
  if (error instanceof SyntaxError || error.statusCode === 400) {
    return {
      type: problemType('bad-request'),
      title: 'Bad request',
      status: 400,
      detail: `${error.message}. Send a well-formed JSON object.`,
    };
  }
  if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) {
    return {
      type: problemType('client-error'),
      title: 'Request refused',
      status: error.statusCode,
      detail: error.message,
    };
  }
  return {
    type: problemType('internal'),
    title: 'Internal error',
    status: 500,
    detail: 'The server failed to handle the request; its log has the details.',
  };
}
