export { buildProgram, type Runner } from './cli.js';
export { DEFAULT_GRACE_MS } from './defaults.js';
export { createDeps, type Io, type OpsDeps, type OwnedDeps, replayGroupOf } from './deps.js';
export { type DltListEntry, type DltListOptions, listDlt, printDltList } from './dlt-list.js';
export { type DltReplayOptions, type DltReplayResult, printReplay, replayDlt } from './dlt-replay.js';
export { loadEnv, type OpsEnv, opsEnv } from './env.js';
export {
  type CouponReport,
  printReconcile,
  type ReconcileOptions,
  type ReconcileResult,
  reconcile,
} from './reconcile.js';
export { missingKey } from './reconcile-redis.js';
export { printRewarm, type RewarmOptions, type RewarmResult, rewarm } from './rewarm.js';
