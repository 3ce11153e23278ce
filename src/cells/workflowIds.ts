// The ids of Hive's own workflows, in one place: the workflows that start them, the API that signals
// them, and the check that keeps a cell's notify target off them (src/cells/notifyTargets.ts).
// Plain constants and functions (no Node APIs): workflow code imports them too.

/** Every workflow Hive starts has an id with one of these prefixes. */
export const hiveWorkflowPrefixes = {
  /** One per cell: `cell-<cell id>`; its notification deliveries are `cell-<cell id>-notify-…`. */
  cell: 'cell-',
  /** One per warm pool: `pool-<workspace>-<template>`. */
  pool: 'pool-',
  /** The host monitor of a task queue: `hosts-<queue>`. */
  hosts: 'hosts-',
} as const;

const CELL_ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

/**
 * Cell ids become directory names (`.cells/<id>`), branch names (`cell/<id>`) and workflow ids, so
 * they are short, lowercase and safe in all three: `c` and 11 base36 characters (≈ 57 bits).
 * `pick(n)` is a random integer below n: crypto's in the API, the workflow's deterministic one in
 * a pool's workflow.
 */
export function cellIdFrom(pick: (n: number) => number): string {
  let id = 'c';
  for (let i = 0; i < 11; i++) id += CELL_ID_ALPHABET[pick(CELL_ID_ALPHABET.length)];
  return id;
}

export const cellIdPattern = /^c[a-z0-9]{11}$/;

export const cellWorkflowId = (cellId: string) => `${hiveWorkflowPrefixes.cell}${cellId}`;
export const poolWorkflowIdOf = (workspaceId: string, templateId: string) =>
  `${hiveWorkflowPrefixes.pool}${workspaceId}-${templateId}`;
export const hostsWorkflowId = (taskQueue: string) => `${hiveWorkflowPrefixes.hosts}${taskQueue}`;

/** Whether a workflow id is (or could become) one of Hive's own workflows. */
export function isHiveWorkflowId(workflowId: string): boolean {
  const id = workflowId.trim().toLowerCase();
  return Object.values(hiveWorkflowPrefixes).some((prefix) => id.startsWith(prefix));
}
