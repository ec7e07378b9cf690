export { Gate, GateBusyError, type GateHooks, ReplicationUnconfirmedError } from './gate.js';
export { rangeSize, rangesFromGroup, readRanges } from './kafka-read.js';
export { acquireGateLock, keepGateLock } from './lock.js';
export { GateLockedError, GatePresentError, type RebuildResult, rebuildGate } from './rebuild.js';
export { adoptRows, gateSnapshot } from './snapshot.js';
