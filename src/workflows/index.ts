// Entry point of the workflow bundle: every workflow the worker runs is exported here.

export { keepPool } from '../pools/workflows/index.js';
export { watchHosts } from './hosts.js';
export { awaitCellEvent, deliverCellEvent } from './notify.js';
export { provisionCell } from './provisionCell.js';
