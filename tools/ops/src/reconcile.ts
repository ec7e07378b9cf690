import { parseId } from '@coupon/contracts';
import { findCoupons } from '@coupon/db';
import { blankReport, type CouponReconcile, reconcileCoupon } from '@coupon/gate';
import type { Redis } from 'ioredis';
import type { Producer } from 'kafkajs';
import { DEFAULT_GRACE_MS, DEFAULT_MAX_REPAIRS } from './defaults.js';
import { connectProducer, type Io, type OpsDeps } from './deps.js';
import { line, table } from './output.js';

export interface ReconcileOptions {
  /** Default: every coupon that has a gate in Redis (a coupon without one is rewarm's business). */
  couponIds?: number[];
  repair?: boolean;
  graceMs?: number;
  /** Republished events plus adopted rows per coupon; the rest waits for the next run. */
  maxRepairs?: number;
}

/** The rule's report (@coupon/gate reconcileCoupon), or a coupon the database does not know. */
export type CouponReport =
  | CouponReconcile
  | (Omit<CouponReconcile, 'status'> & { status: 'not in database' });

export interface ReconcileResult {
  coupons: CouponReport[];
  /** 0: no drift or all of it repaired; 1: drift left unrepaired. */
  exitCode: 0 | 1;
}

/** How long a run waits for the reconcile lock of a coupon that an issuer is working. */
const LOCK_WAIT_MS = 30_000;

/**
 * `coupon-ops reconcile`: the issuers' rule (@coupon/gate reconcileCoupon) run by hand, always in
 * full (no quick skip), each coupon under the same lock as the issuers' automatic reconcile.
 */
export async function reconcile(deps: OpsDeps, opts: ReconcileOptions = {}): Promise<ReconcileResult> {
  const ids =
    opts.couponIds && opts.couponIds.length > 0
      ? [...new Set(opts.couponIds)]
      : await couponsWithGate(deps.redis);
  const known = new Set((await findCoupons(deps.pool, ids)).map((c) => c.id));
  let producer: Promise<Producer> | undefined;
  const coupons: CouponReport[] = [];
  try {
    const rule = {
      redis: deps.redis,
      pool: deps.pool,
      kafka: deps.kafka,
      topics: deps.topics,
      signal: deps.signal,
      admin: async () => deps.admin,
      producer: () => {
        producer ??= connectProducer(deps.kafka);
        return producer;
      },
    };
    for (const id of ids.sort((a, b) => a - b)) {
      if (deps.signal?.aborted) throw new Error('interrupted');
      if (!known.has(id)) {
        coupons.push(notInDatabase(id));
        continue;
      }
      coupons.push(
        await reconcileCoupon(rule, id, {
          repair: opts.repair ?? false,
          graceMs: opts.graceMs ?? DEFAULT_GRACE_MS,
          maxRepairs: opts.maxRepairs ?? DEFAULT_MAX_REPAIRS,
          lockWaitMs: LOCK_WAIT_MS,
        }),
      );
    }
  } finally {
    if (producer) await (await producer.catch(() => undefined))?.disconnect().catch(() => undefined);
  }
  const unrepaired = coupons.some((c) => c.status !== 'ok' && c.status !== 'repaired');
  return { coupons, exitCode: unrepaired ? 1 : 0 };
}

function notInDatabase(couponId: number): CouponReport {
  return { ...blankReport(couponId, 'ok'), status: 'not in database' };
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

/** Counts per coupon, with a sample of ids (at most ten of each kind) where there are any. */
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
    'in flight',
    'not admitted',
    'refused',
    'stock Δ',
    'republished',
    'adopted',
  ];
  const rows = r.coupons.map((c) => [
    c.couponId,
    c.status,
    c.quantity,
    c.remaining,
    c.admitted,
    c.rows,
    counted(c.missing, c.samples.missing),
    c.pending,
    c.inFlight,
    counted(c.notAdmitted, c.samples.notAdmitted),
    counted(c.refused, c.samples.refused),
    c.stockDelta,
    c.republished,
    c.adopted,
  ]);
  line(io.out, table(head, rows));
  const drift = r.coupons.filter((c) => c.status !== 'ok');
  line(
    io.out,
    `${r.coupons.length} coupon(s), ${drift.length} with drift, ${r.exitCode === 0 ? 'nothing left to repair' : 'drift left unrepaired'}`,
  );
}

/** "3: 11,12,13", or "250: 11,12,… (+240 more)": a count and its sample. */
function counted(n: number, sample: readonly number[]): string {
  if (n === 0) return '0';
  return `${n}: ${sample.join(',')}${n > sample.length ? ` (+${n - sample.length} more)` : ''}`;
}
