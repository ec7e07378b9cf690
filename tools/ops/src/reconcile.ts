import { randomUUID } from 'node:crypto';
import { COUPON_ISSUED_VERSION, type CouponIssuedEvent, encodeIssuedEvent, parseId } from '@coupon/contracts';
import { findCoupons, issuedUserIds, refusedUserIds } from '@coupon/db';
import { adoptRows, gateSnapshot } from '@coupon/gate';
import type { Redis } from 'ioredis';
import type { Producer } from 'kafkajs';
import { DEFAULT_GRACE_MS } from './defaults.js';
import { connectProducer, type Io, type OpsDeps } from './deps.js';
import { line, shorten, table } from './output.js';
import { ageMissing, restartGrace } from './reconcile-redis.js';

export interface ReconcileOptions {
  /** Default: every coupon that has a gate in Redis (a coupon without one is rewarm's business). */
  couponIds?: number[];
  repair?: boolean;
  graceMs?: number;
}

export interface CouponReport {
  couponId: number;
  status: 'ok' | 'drift' | 'repaired' | 'no gate (run rewarm)' | 'not in database';
  quantity: number;
  remaining: number;
  admitted: number;
  rows: number;
  /** Admitted in Redis, no row, for longer than the grace period. */
  missing: number[];
  /** Admitted, no row yet, still within the grace period: not drift. */
  pending: number[];
  /** A row in MySQL, not in Redis's admitted set. */
  notAdmitted: number[];
  /**
   * Admitted, no row, because MySQL's quantity guard refused it (the gate over-admitted; DLT reason
   * OVER_QUANTITY). Final: not drift, never re-published.
   */
  refused: number[];
  /** remaining − (quantity − admitted): above 0 the gate could over-issue, below 0 it under-issues. */
  stockDelta: number;
}

export interface ReconcileResult {
  coupons: CouponReport[];
  /** 0: no drift or all of it repaired; 1: drift left unrepaired. */
  exitCode: 0 | 1;
}

export async function reconcile(deps: OpsDeps, opts: ReconcileOptions = {}): Promise<ReconcileResult> {
  const ids =
    opts.couponIds && opts.couponIds.length > 0
      ? [...new Set(opts.couponIds)]
      : await couponsWithGate(deps.redis);
  const known = new Map((await findCoupons(deps.pool, ids)).map((c) => [c.id, c]));
  const producer = opts.repair ? await connectProducer(deps.kafka) : undefined;
  const coupons: CouponReport[] = [];
  try {
    for (const id of ids.sort((a, b) => a - b)) {
      if (deps.signal?.aborted) throw new Error('interrupted');
      coupons.push(
        known.has(id) ? await reconcileOne(deps, id, opts, producer) : empty(id, 'not in database'),
      );
    }
  } finally {
    await producer?.disconnect().catch(() => undefined);
  }
  const unrepaired = coupons.some((c) => c.status !== 'ok' && c.status !== 'repaired');
  return { coupons, exitCode: unrepaired ? 1 : 0 };
}

async function reconcileOne(
  deps: OpsDeps,
  couponId: number,
  opts: ReconcileOptions,
  producer?: Producer,
): Promise<CouponReport> {
  // Redis first, then MySQL: a user admitted and persisted in between shows as a row not admitted,
  // which adoptRows treats as a no-op (SADD of a member), never as a missing event.
  const gate = await gateSnapshot(deps.redis, couponId);
  if (!gate) return empty(couponId, 'no gate (run rewarm)');
  const [rows, refusedAll] = await Promise.all([
    issuedUserIds(deps.pool, couponId),
    refusedUserIds(deps.pool, couponId),
  ]);
  const admitted = new Set(gate.admitted);
  const persisted = new Set(rows);
  const refusedSet = new Set(refusedAll);
  const refused = gate.admitted.filter((u) => !persisted.has(u) && refusedSet.has(u));
  const missingAll = gate.admitted.filter((u) => !persisted.has(u) && !refusedSet.has(u));
  const notAdmitted = rows.filter((u) => !admitted.has(u));
  const { overdue, pending } = await ageMissing(
    deps.redis,
    couponId,
    missingAll,
    opts.graceMs ?? DEFAULT_GRACE_MS,
  );
  const stockDelta = gate.remaining - Math.max(0, gate.quantity - admitted.size);
  const report: CouponReport = {
    couponId,
    status: 'ok',
    quantity: gate.quantity,
    remaining: gate.remaining,
    admitted: admitted.size,
    rows: persisted.size,
    missing: overdue,
    pending,
    notAdmitted,
    refused,
    stockDelta,
  };
  if (overdue.length === 0 && notAdmitted.length === 0 && stockDelta === 0) return report;
  report.status = 'drift';
  if (!producer) return report;

  if (notAdmitted.length > 0 || stockDelta > 0) await adoptRows(deps.redis, couponId, notAdmitted);
  await republish(producer, deps.topics.issued, couponId, overdue);
  await restartGrace(deps.redis, couponId, overdue);
  if (stockDelta >= 0) report.status = 'repaired';
  return report;
}

/** New events for admitted users without a row: a new eventId, issued now, requestId 'reconcile'. */
async function republish(
  producer: Producer,
  topic: string,
  couponId: number,
  users: readonly number[],
): Promise<void> {
  for (let i = 0; i < users.length; i += 1_000) {
    const messages = users.slice(i, i + 1_000).map((userId) => {
      const e: CouponIssuedEvent = {
        v: COUPON_ISSUED_VERSION,
        eventId: randomUUID(),
        couponId,
        userId,
        issuedAt: Date.now(),
        requestId: 'reconcile',
      };
      return encodeIssuedEvent(e);
    });
    await producer.send({ topic, acks: -1, messages });
  }
}

async function couponsWithGate(redis: Redis): Promise<number[]> {
  const ids: number[] = [];
  for await (const keys of redis.scanStream({ match: '{coupon:*}:meta', count: 1_000 }) as AsyncIterable<
    string[]
  >) {
    for (const k of keys) {
      const id = parseId(/^\{coupon:(\d+)\}:meta$/.exec(k)?.[1]);
      if (id !== undefined) ids.push(id);
    }
  }
  return ids;
}

function empty(couponId: number, status: CouponReport['status']): CouponReport {
  return {
    couponId,
    status,
    quantity: 0,
    remaining: 0,
    admitted: 0,
    rows: 0,
    missing: [],
    pending: [],
    notAdmitted: [],
    refused: [],
    stockDelta: 0,
  };
}

export function printReconcile(io: Io, r: ReconcileResult, json: boolean): void {
  if (json) {
    line(io.out, JSON.stringify(r.coupons, null, 2));
    return;
  }
  const head = [
    'coupon',
    'status',
    'quantity',
    'remaining',
    'admitted',
    'rows',
    'missing',
    'in grace',
    'not admitted',
    'refused',
    'stock Δ',
  ];
  const rows = r.coupons.map((c) => [
    c.couponId,
    c.status,
    c.quantity,
    c.remaining,
    c.admitted,
    c.rows,
    shorten(c.missing),
    c.pending.length,
    shorten(c.notAdmitted),
    shorten(c.refused),
    c.stockDelta,
  ]);
  line(io.out, table(head, rows));
  const drift = r.coupons.filter((c) => c.status !== 'ok');
  line(
    io.out,
    `${r.coupons.length} coupon(s), ${drift.length} with drift, ${r.exitCode === 0 ? 'nothing left to repair' : 'drift left unrepaired'}`,
  );
}
