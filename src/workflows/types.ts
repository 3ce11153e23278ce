// Shapes crossing the workflow boundary. Plain types only: this file is bundled into the sandbox.
import type { CellStatus } from '../cells/status.js';

export interface ProvisionCellInput {
  cellId: string;
  workspaceId: string;
  templateId: string;
}

export interface ProvisionCellResult {
  cellId: string;
  status: CellStatus;
}
