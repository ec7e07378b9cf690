import { type RebuildResult, rebuildGate } from '@coupon/gate';
import type { Io, OpsDeps } from './deps.js';
import { line, table } from './output.js';

export interface RewarmOptions {
  couponId: number;
  dryRun?: boolean;
  /**
   * Rebuild although a gate is present: it is closed first (the issuers answer 503 for the coupon),
   * then, after closeWaitMs, rebuilt keeping the users it held after the close.
   */
  force?: boolean;
  /** With force on a live gate: the wait after closing it (default: the producer horizon + 1 s). */
  closeWaitMs?: number;
}

export type RewarmResult = RebuildResult;

/**
 * Rebuilds a coupon's gate after Redis lost it, with the implementation the issuer uses when it
 * heals a lost gate by itself (@coupon/gate rebuildGate: under the coupon's rebuild lock,
 * admitted = rows ∪ in-flight events ∪ DLT events holding a slot, remaining = quantity − |admitted|).
 * Fails when an issuer is rebuilding the same gate at that moment (the lock is taken). With --force
 * on a live coupon, admissions stop while it works: none made before the close is dropped.
 */
export function rewarm(deps: OpsDeps, opts: RewarmOptions): Promise<RewarmResult> {
  return rebuildGate(deps, opts);
}

export function printRewarm(io: Io, r: RewarmResult): void {
  const rows: Array<[string, number]> = [
    ['quantity', r.quantity],
    ['persisted', r.persisted],
    ['in flight', r.inFlight],
    ['in DLT', r.inDlt],
    ['remaining', r.remaining],
  ];
  if (r.kept > 0) rows.splice(4, 0, ['kept from gate', r.kept]);
  line(io.out, table(['coupon', String(r.couponId)], rows));
  line(
    io.out,
    r.dryRun
      ? `dry run: gate of coupon ${r.couponId} not changed`
      : `gate of coupon ${r.couponId} loaded: ${r.remaining} left`,
  );
}
