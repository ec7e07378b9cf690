import { couponIssuedEvent } from '@coupon/contracts';
import { findCoupon, issuedUserIds } from '@coupon/db';
import type { KafkaMessage } from 'kafkajs';
import type { Io, OpsDeps } from './deps.js';
import { toDltRecord } from './dlt-record.js';
import { type Range, rangesFromGroup, readRanges } from './kafka-read.js';
import { line, table } from './output.js';
import { gateSnapshot } from './reconcile-redis.js';

export interface RewarmOptions {
  couponId: number;
  dryRun?: boolean;
  /** Rebuild although a gate is present (its admitted users are kept). */
  force?: boolean;
}

export interface RewarmResult {
  couponId: number;
  dryRun: boolean;
  quantity: number;
  /** Users with a row. */
  persisted: number;
  /** Users whose event is in the main topic beyond the persister's committed offsets, without a row yet. */
  inFlight: number;
  /** Users whose event sits in the DLT, without a row: a replay will bring them in. */
  inDlt: number;
  /** Users the gate already held (only with --force). */
  kept: number;
  admitted: number;
  remaining: number;
}

/**
 * Rebuilds a coupon's gate after Redis lost it. Every user who was told 202 holds a slot whether
 * their event is persisted, still in the topic, or parked in the DLT, so
 *   admitted  = rows ∪ in-flight events ∪ DLT events (∪ the current gate's users with --force)
 *   remaining = quantity − |admitted|, never the full quantity.
 * The persister's committed offsets are read before the rows: an event committed in between is
 * then in the rows, and one not yet committed is in the range read afterwards, so none is missed.
 * While the gate is missing the issuer answers 503 for this coupon, so nobody is admitted meanwhile.
 */
export async function rewarm(deps: OpsDeps, opts: RewarmOptions): Promise<RewarmResult> {
  const { couponId } = opts;
  const coupon = await findCoupon(deps.pool, couponId);
  if (!coupon) throw new Error(`coupon ${couponId} does not exist in the database`);
  const current = await gateSnapshot(deps.redis, couponId);
  if (current && !opts.force) {
    throw new Error(
      `coupon ${couponId} has a gate (remaining ${current.remaining}, admitted ${current.admitted.length}); ` +
        'rewarm rebuilds a lost gate: use reconcile for drift, or --force to rebuild keeping its users',
    );
  }
  const inFlightRanges = await rangesFromGroup(deps.admin, deps.topics.issued, deps.topics.persisterGroup);
  const rows = new Set(await issuedUserIds(deps.pool, couponId));
  const inFlight = await usersIn(deps, deps.topics.issued, inFlightRanges, couponId);
  const dltRanges = await rangesFromGroup(deps.admin, deps.topics.issuedDlt, undefined);
  const inDlt = await usersIn(deps, deps.topics.issuedDlt, dltRanges, couponId);
  const kept = current?.admitted ?? [];

  const admitted = new Set([...rows, ...inFlight, ...inDlt, ...kept]);
  const notIn = (s: Set<number>, xs: Iterable<number>) => [...xs].filter((u) => !s.has(u));
  const flying = notIn(rows, inFlight);
  const result: RewarmResult = {
    couponId,
    dryRun: opts.dryRun ?? false,
    quantity: coupon.quantity,
    persisted: rows.size,
    inFlight: flying.length,
    inDlt: notIn(new Set([...rows, ...flying]), inDlt).length,
    kept: kept.length,
    admitted: admitted.size,
    remaining: Math.max(0, coupon.quantity - admitted.size),
  };
  if (!result.dryRun) await deps.gate.load(coupon, [...admitted]);
  return result;
}

async function usersIn(
  deps: OpsDeps,
  topic: string,
  ranges: Range[],
  couponId: number,
): Promise<Set<number>> {
  const users = new Set<number>();
  const take = (partition: number, m: KafkaMessage) => {
    if (topic === deps.topics.issuedDlt) {
      const r = toDltRecord(partition, m);
      if (r.event?.couponId === couponId) users.add(r.event.userId);
      return;
    }
    try {
      const e = couponIssuedEvent.safeParse(JSON.parse(m.value?.toString('utf8') ?? ''));
      if (e.success && e.data.couponId === couponId) users.add(e.data.userId);
    } catch {
      // not JSON: the persister sends it to the DLT; it admits nobody
    }
  };
  await readRanges(deps.kafka, {
    topic,
    ranges,
    signal: deps.signal,
    onBatch: async ({ partition, messages }) => {
      for (const m of messages) take(partition, m);
      return undefined;
    },
  });
  return users;
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
