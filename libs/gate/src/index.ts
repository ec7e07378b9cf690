export { type AdmittedCount, type AdmittedSources, countAdmitted } from './admitted.js';
export {
  ADMIT_OUTCOMES,
  Gate,
  type GateCoupon,
  type GateHooks,
  type GateOptions,
  type GateState,
  ReplicationUnconfirmedError,
} from './gate.js';
export {
  type Range,
  type ReadBatch,
  type ReadOptions,
  type ReadResult,
  rangeSize,
  rangesFromGroup,
  readRanges,
} from './kafka-read.js';
export { acquireGateLock, type GateLock } from './lock.js';
export {
  GATE_LOCK_TTL_MS,
  GateLockedError,
  GatePresentError,
  type RebuildDeps,
  type RebuildOptions,
  type RebuildResult,
  rebuildGate,
} from './rebuild.js';
export { adoptRows, type GateSnapshot, gateSnapshot } from './snapshot.js';
