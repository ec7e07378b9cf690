export { Gate, GateBusyError, type GateHooks, ReplicationUnconfirmedError } from './gate.js';
export { rangeSize, rangesFromGroup, readRanges } from './kafka-read.js';
export { acquireGateLock, acquireLock, type GateLock, keepGateLock } from './lock.js';
export { GateLockedError, GatePresentError, type RebuildResult, rebuildGate } from './rebuild.js';
export {
  type CouponReconcile,
  RECONCILE_LOCK_TTL_MS,
  type ReconcileDeps,
  type ReconcileOptions,
  type ReconcileStatus,
  reconcileCoupon,
} from './reconcile.js';
export { adoptRows, gateSnapshot } from './snapshot.js';
