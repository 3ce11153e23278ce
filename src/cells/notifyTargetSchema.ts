// What a cell request may name as its notify target: the shape, and the checks that keep it off
// Hive's own workflows, signals, machine and network (src/cells/notifyTargets.ts, notifyAddress.ts).
import '../config/zodMessages.js';
import { z } from 'zod';
import { notifyUrlProblem } from './notifyAddress.js';
import { CELL_EVENT_SIGNAL, refusedWorkflowTarget } from './notifyTargets.js';

const WebhookTarget = z
  .object({
    url: z
      .url({ protocol: /^https?$/, error: 'an http(s) URL' })
      .max(2_000)
      .describe(
        'Receives a POST with the event as JSON (docs/handoff.md). A public address: loopback, private and link-local ones only if HIVE_NOTIFY_ALLOW allows them; no user:password@',
      ),
    secret: z
      .string()
      .min(16, 'at least 16 characters')
      .max(512)
      .optional()
      .describe('Signs each delivery: Hive-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">'),
  })
  .strict();

const WorkflowTarget = z
  .object({
    workflowId: z
      .string()
      .min(1)
      .max(400)
      .describe(
        "A running Temporal workflow in Hive's namespace, not one of Hive's own (cell-…, pool-…, hosts-…)",
      ),
    signal: z
      .string()
      .min(1)
      .max(200)
      .describe(
        `The signal it receives the event with (one argument), e.g. "${CELL_EVENT_SIGNAL}"; not one of Hive's control signals`,
      ),
  })
  .strict();

/** A notify target as stored: read back without the request-time checks (delivery checks again). */
export const StoredNotifyTarget = z.union([WebhookTarget, WorkflowTarget]);
export type StoredNotifyTarget = z.infer<typeof StoredNotifyTarget>;

/**
 * Where a cell's events (ready, failed, rolled_back, cancelled, archived, cleanup_failed) are
 * delivered: POSTed as JSON to a URL, signed when a secret is given, or signalled to a Temporal
 * workflow. The secret is kept in Hive's database only: never in workflow history, API answers,
 * events or logs. A target is refused when it could reach Hive itself or its network
 * (src/cells/notifyAddress.ts, src/cells/notifyTargets.ts); the API also checks what a URL's name
 * resolves to.
 */
export const NotifyTarget = z.union([
  WebhookTarget.superRefine(({ url }, ctx) => {
    const problem = notifyUrlProblem(url);
    if (problem) ctx.addIssue({ code: 'custom', path: ['url'], message: problem });
  }),
  WorkflowTarget.superRefine(({ workflowId, signal }, ctx) => {
    const refused = refusedWorkflowTarget(workflowId, signal);
    if (refused) ctx.addIssue({ code: 'custom', path: [refused.field], message: refused.detail });
  }),
]);
export type NotifyTarget = z.infer<typeof NotifyTarget>;
