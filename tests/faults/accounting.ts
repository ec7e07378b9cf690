import { PassThrough } from 'node:stream';
import { type DbPool, duplicateIssues, issuedUserIds } from '@coupon/db';
import { createDeps, listDlt, type OwnedDeps, opsEnv, reconcile } from '@coupon/ops';
import { type Shot, tallyShots, unhealthy } from './load.js';
import type { Deps } from './topology.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface CouponAccount {
  couponId: number;
  quantity: number;
  /** Users answered 202. */
  accepted: number;
  rows: number;
  /** DLT entries of the coupon, by reason. */
  dlt: Record<string, number>;
  /** Admitted users without a row after the drain, re-published by reconcile --repair (grace 0). */
  repaired: number;
  /** Before the repair: rows the gate did not hold (it forgot admissions), and stock above quantity − admitted. */
  forgotten: number;
  stockDelta: number;
  /** Users answered something else than 202 (503, no answer) who hold a row: admitted, not acknowledged. */
  ambiguous: number;
  /** I1–I4 broken, in words; empty when all hold. */
  violations: string[];
  /** Odd but not an invariant: e.g. a user answered 409 who holds a row. */
  notes: string[];
}

/** The ops command's functions on a topology's dependencies, output discarded. */
export async function opsDeps(deps: Deps): Promise<OwnedDeps> {
  const sink = new PassThrough().resume();
  return createDeps(opsEnv.parse({ ...deps, LOG_LEVEL: 'silent' }), { out: sink, err: sink });
}

/** Events in the main topic not yet committed by the persister group. */
async function lag(ops: OwnedDeps): Promise<number> {
  const topic = ops.topics.issued;
  const [high, [committed]] = await Promise.all([
    ops.admin.fetchTopicOffsets(topic),
    ops.admin.fetchOffsets({ groupId: ops.topics.persisterGroup, topics: [topic] }),
  ]);
  const done = new Map((committed?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
  return high.reduce((n, p) => n + Number(p.high) - Math.max(0, done.get(p.partition) ?? 0), 0);
}

async function until(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > end) return false;
    await sleep(250);
  }
}

/**
 * After the load and the fault: waits until every 202 has a row (or `drainMs` passes) and rows stop
 * changing, runs reconcile --repair with grace 0 (a 503 during an ambiguous produce failure leaves
 * an admitted user whose event may never have reached Kafka: reconcile re-publishes it), waits for
 * those rows, then checks I1–I4 for every coupon from MariaDB, Redis and the DLT.
 */
export async function settle(
  deps: Deps,
  pool: DbPool,
  coupons: ReadonlyArray<{ id: number; quantity: number }>,
  shots: readonly Shot[],
  drainMs = 60_000,
): Promise<CouponAccount[]> {
  const ops = await opsDeps(deps);
  try {
    const accepted = new Map(coupons.map((c) => [c.id, new Set<number>()]));
    for (const s of shots) if (s.status === 202) accepted.get(s.couponId)?.add(s.userId);
    const rowsOf = async (id: number) => new Set(await issuedUserIds(pool, id));

    await until(async () => {
      for (const c of coupons) {
        const rows = await rowsOf(c.id);
        for (const u of accepted.get(c.id) ?? []) if (!rows.has(u)) return false;
      }
      return true;
    }, drainMs);
    // Then the consumer group's lag to zero: events of users answered 503 may still be on their way.
    await until(async () => (await lag(ops)) === 0, 30_000);

    const ids = coupons.map((c) => c.id);
    const repair = await reconcile(ops, { couponIds: ids, repair: true, graceMs: 0 });
    await until(async () => {
      for (const c of coupons) {
        const admitted = await ops.gate.admittedUsers(c.id);
        const rows = await rowsOf(c.id);
        if (admitted.some((u) => !rows.has(u))) return false;
      }
      return true;
    }, 30_000);
    const final = await reconcile(ops, { couponIds: ids, graceMs: 0 });

    const out: CouponAccount[] = [];
    for (const c of coupons) {
      const rows = await rowsOf(c.id);
      const admitted = new Set(await ops.gate.admittedUsers(c.id));
      const state = await ops.gate.state(c.id);
      const dltEntries = await listDlt(ops, { couponId: c.id });
      const dltUsers = new Set(dltEntries.map((e) => e.userId));
      const dlt: Record<string, number> = {};
      for (const e of dltEntries) dlt[e.reason ?? '?'] = (dlt[e.reason ?? '?'] ?? 0) + 1;
      const acc = accepted.get(c.id) ?? new Set<number>();
      const v: string[] = [];
      if (rows.size > c.quantity) v.push(`I1: ${rows.size} rows for a quantity of ${c.quantity}`);
      const dupes = await duplicateIssues(pool, c.id);
      if (dupes > 0) v.push(`I2: ${dupes} users with more than one row`);
      const lost = [...acc].filter((u) => !rows.has(u) && !dltUsers.has(u));
      if (lost.length > 0)
        v.push(`I3: ${lost.length} users answered 202 have no row and no DLT entry: ${lost.slice(0, 5)}`);
      const notRow = [...admitted].filter((u) => !rows.has(u));
      const notAdmitted = [...rows].filter((u) => !admitted.has(u));
      if (notRow.length + notAdmitted.length > 0)
        v.push(
          `I4: admitted without row ${notRow.length} (${notRow.slice(0, 5)}), row not admitted ${notAdmitted.length}`,
        );
      if (state && state.remaining !== Math.max(0, c.quantity - admitted.size))
        v.push(`I4: remaining ${state.remaining} ≠ quantity ${c.quantity} − admitted ${admitted.size}`);
      const report = final.coupons.find((r) => r.couponId === c.id);
      if (report?.status !== 'ok') v.push(`I4: reconcile after repair reports ${report?.status}`);
      const before = repair.coupons.find((r) => r.couponId === c.id);
      const mine = shots.filter((s) => s.couponId === c.id && s.status !== 202 && rows.has(s.userId));
      const ambiguous = mine.filter(unhealthy).length;
      const odd = mine.filter((s) => !unhealthy(s));
      const notes =
        odd.length > 0
          ? [`${odd.length} users answered 4xx hold a row: ${JSON.stringify(tallyShots(odd))}`]
          : [];
      out.push({
        couponId: c.id,
        quantity: c.quantity,
        accepted: acc.size,
        rows: rows.size,
        dlt,
        repaired: before?.republished ?? 0,
        forgotten: before?.notAdmitted ?? 0,
        stockDelta: before?.stockDelta ?? 0,
        ambiguous,
        violations: v,
        notes,
      });
    }
    return out;
  } finally {
    await ops.close();
  }
}
