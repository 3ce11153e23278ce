// Custom search attributes: registered on the dev server at start, upserted by the workflow, queried
// by people in the Temporal UI (`CellId="…"`). Safe to import from workflow code.
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const CellIdKey = defineSearchAttributeKey('CellId', SearchAttributeType.KEYWORD);
export const TemplateIdKey = defineSearchAttributeKey('TemplateId', SearchAttributeType.KEYWORD);
export const CellStatusKey = defineSearchAttributeKey('CellStatus', SearchAttributeType.KEYWORD);
export const WorkspaceIdKey = defineSearchAttributeKey('WorkspaceId', SearchAttributeType.KEYWORD);

export const searchAttributeKeys = [CellIdKey, TemplateIdKey, CellStatusKey, WorkspaceIdKey];
