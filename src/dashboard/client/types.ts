// The client's shapes are the API's own zod schemas, imported as types only (erased when bundled),
// so a change of a response shape breaks the dashboard's type check, not a person's page.
import type { z } from 'zod';
import type { About as AboutSchema } from '../../api/routes/about.js';
import type { CellEnv, ServiceLogs } from '../../api/routes/cellFiles.js';
import type { CellFeedEvent } from '../../api/routes/events.js';
import type { ValidationReport as ValidationReportSchema } from '../../api/routes/templates.js';
import type { WorkspaceView as WorkspaceViewSchema } from '../../api/routes/workspaces.js';
import type { CellDetail, CellRecord, Failure } from '../../cells/schema.js';
import type { CellAction, CellStatus } from '../../cells/status.js';
import type { HostView } from '../../hosts/schema.js';
import type { Finding } from '../../templates/findings.js';
import type { TemplateDetail, TemplateSummary } from '../../templates/views.js';

export type {
  CellAction,
  CellDetail,
  CellFeedEvent,
  CellRecord,
  CellStatus,
  Failure,
  Finding,
  HostView,
  TemplateDetail,
  TemplateSummary,
};
export type StepView = CellDetail['steps'][number];
export type ServiceView = CellDetail['services'][number];
export type ValidationReport = z.infer<typeof ValidationReportSchema>;
export type CellEnvView = z.infer<typeof CellEnv>;
export type ServiceLogsView = z.infer<typeof ServiceLogs>;

/** GET /workspaces and GET /about. */
export type WorkspaceView = z.infer<typeof WorkspaceViewSchema>;
export type About = z.infer<typeof AboutSchema>;

/** RFC 9457 problem details, as every error of the API is answered. */
export interface ProblemBody {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  findings?: Finding[];
  errors?: Array<{ pointer?: string; detail?: string }>;
}
