// The shapes of Hive's public API as a client sees them, derived by type-only imports from the zod
// schemas the API validates and documents with (the single source of truth): nothing here runs, so
// a client bundle never pulls in zod, Fastify or Prisma.
import type { z } from 'zod';
import type { CellEnv as CellEnvSchema, ServiceLogs as ServiceLogsSchema } from '../api/routes/cellFiles.js';
import type { ValidationReport as ValidationReportSchema } from '../api/routes/templates.js';
import type { WorkspaceView as WorkspaceViewSchema } from '../api/routes/workspaces.js';
import type {
  CellAccepted as CellAcceptedSchema,
  CellDetail,
  CellRecord,
  CellRequest as CellRequestSchema,
  Failure,
} from '../cells/schema.js';
import type { CellAction, CellStatus } from '../cells/status.js';
import type { HostView as HostViewSchema } from '../hosts/schema.js';
import type { Finding } from '../templates/findings.js';
import type { TemplateDetail, TemplateSummary } from '../templates/views.js';

export type {
  CellAction,
  CellDetail,
  CellRecord,
  CellStatus,
  Failure,
  Finding,
  TemplateDetail,
  TemplateSummary,
};

/** What `POST /cells` takes; fields with defaults on the server are optional here. */
export type CellRequest = z.input<typeof CellRequestSchema>;
/** The answer to a request or a lifecycle action: the cell and its state when it was accepted. */
export type CellAccepted = z.infer<typeof CellAcceptedSchema>;
/** `POST /templates/:id/validate`: the dry run's verdict. */
export type ValidationReport = z.infer<typeof ValidationReportSchema>;
/** `GET /cells/:id/services/:service/logs`: the last lines, known secret values masked. */
export type ServiceLogs = z.infer<typeof ServiceLogsSchema>;
/** `GET /cells/:id/env`: the cell's environment; secret values are null. */
export type CellEnv = z.infer<typeof CellEnvSchema>;

/** One registered workspace (`GET /workspaces`). */
export type Workspace = z.infer<typeof WorkspaceViewSchema>;

/** One registered host (`GET /hosts`): state, capacity, what its cells reserve, free disk, load. */
export type Host = z.infer<typeof HostViewSchema>;

export type ServiceAction = 'stop' | 'start' | 'restart';

/**
 * The events of `GET /cells/:id/events`: one zod shape per kind (src/cells/eventShapes.ts).
 * Recorded events carry an `id`; `log` lines are live only; `end` closes the stream once the cell
 * rests.
 */
export type { CellEvent } from '../cells/eventShapes.js';
