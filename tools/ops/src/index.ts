export { createDeps, type OwnedDeps } from './deps.js';
export { listDlt } from './dlt-list.js';
export { replayDlt } from './dlt-replay.js';
export { opsEnv } from './env.js';
export { reconcile } from './reconcile.js';
export { rewarm } from './rewarm.js';
