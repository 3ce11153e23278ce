// Entry point of the workflow bundle: every workflow the worker runs is exported here.

export { watchHosts } from './hosts.js';
export { awaitCellEvent, deliverCellEvent } from './notify.js';
export { keepPool } from './pool.js';
export { provisionCell } from './provisionCell.js';
