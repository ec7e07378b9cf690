export {
  Gate,
  GateBusyError,
  type GateControls,
  type GateHooks,
  ReplicationUnconfirmedError,
} from './gate.js';
export { rangeSize, rangesFromGroup, readRanges } from './kafka-read.js';
export { acquireGateLock, acquireLock, keepGateLock } from './lock.js';
export { GateLockedError, GatePresentError, type RebuildResult, rebuildGate } from './rebuild.js';
export {
  blankReport,
  type CouponReconcile,
  type ReconcileDeps,
  reconcileCoupon,
} from './reconcile.js';
export { gateSnapshot } from './snapshot.js';
