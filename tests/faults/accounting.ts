import { PassThrough } from 'node:stream';
import { type DbPool, duplicateIssues, issuedUserIds } from '@coupon/db';
import { createDeps, listDlt, type OwnedDeps, opsEnv, reconcile } from '@coupon/ops';
import { waitUntil } from '../support/index.js';
import { type AmbiguityWatch, type AutoSettle, lag } from './ambiguity.js';
import { type Shot, tallyShots, unhealthy } from './load.js';
import type { Deps } from './topology.js';

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
  /** Users answered 202 without a row or a DLT entry before any reconcile (must be 0). */
  unpersisted202: number;
  /** I1–I4 and the settle checks broken, in words; empty when all hold. */
  violations: string[];
  /** Odd but not an invariant: e.g. a user answered 409 who holds a row. */
  notes: string[];
}

/**
 * The ops command's functions on a topology's dependencies, output discarded. Five attempts: on a
 * loaded machine a connection's first ready can take longer than createDeps's 5 s.
 */
export async function opsDeps(deps: Deps): Promise<OwnedDeps> {
  const sink = new PassThrough().resume();
  for (let attempt = 1; ; attempt++) {
    try {
      return await createDeps(opsEnv.parse({ ...deps, LOG_LEVEL: 'silent' }), { out: sink, err: sink });
    } catch (err) {
      if (attempt >= 5) throw err;
    }
  }
}

export interface SettleOptions {
  /** How long to wait for every 202 to have a row. */
  drainMs?: number;
  /** Watches ambiguous slots since the dependencies were back; its result is checked before any reconcile. */
  watch?: AmbiguityWatch;
  /** From the dependencies back until no ambiguous slot may be left (the automatic reconcile's budget). */
  windowMs?: number;
}

export interface Settled {
  accounts: CouponAccount[];
  /** What the automatic reconcile did (undefined without a watch). */
  auto?: AutoSettle;
}

/**
 * After the load and the fault: waits until every 202 has a row (or `drainMs` passes) and the lag
 * is zero, then, before any reconcile, checks that the system settled by itself: every user told
 * 202 has a row or a DLT entry, no admitted slot is left ambiguous `windowMs` after the dependencies
 * were back, and no user told 409 ALREADY_ISSUED is without a row. Only then runs reconcile --repair
 * with grace 0 (it must find no drift: nothing left for an operator), waits for those rows, and
 * checks I1–I4 for every coupon from MariaDB, Redis and the DLT.
 */
export async function settle(
  deps: Deps,
  pool: DbPool,
  coupons: ReadonlyArray<{ id: number; quantity: number }>,
  shots: readonly Shot[],
  o: SettleOptions = {},
): Promise<Settled> {
  const ops = await opsDeps(deps);
  try {
    const accepted = new Map(coupons.map((c) => [c.id, new Set<number>()]));
    for (const s of shots) if (s.status === 202) accepted.get(s.couponId)?.add(s.userId);
    const rowsOf = async (id: number) => new Set(await issuedUserIds(pool, id));

    await waitUntil(async () => {
      for (const c of coupons) {
        const rows = await rowsOf(c.id);
        for (const u of accepted.get(c.id) ?? []) if (!rows.has(u)) return false;
      }
      return true;
    }, o.drainMs ?? 60_000);
    // Then the consumer group's lag to zero: events of users answered 503 may still be on their way.
    await waitUntil(async () => (await lag(ops)) === 0, 30_000);

    // Before any reconcile: what the system settled by itself.
    const dltUsersOf = async (id: number) =>
      new Set((await listDlt(ops, { couponId: id })).map((e) => e.userId));
    const early = new Map<number, string[]>();
    const unpersisted = new Map<number, number>();
    for (const c of coupons) {
      const rows = await rowsOf(c.id);
      const dltUsers = await dltUsersOf(c.id);
      const lost = [...(accepted.get(c.id) ?? [])].filter((u) => !rows.has(u) && !dltUsers.has(u));
      unpersisted.set(c.id, lost.length);
      const v: string[] = [];
      if (lost.length > 0)
        v.push(
          `told 202, no row and no DLT entry before any reconcile: ${lost.length} (${lost.slice(0, 5)})`,
        );
      early.set(c.id, v);
    }
    const auto = o.watch ? await o.watch.result(o.watch.since + (o.windowMs ?? 60_000)) : undefined;
    const windowS = Math.round((o.windowMs ?? 60_000) / 1_000);
    for (const c of coupons) {
      const rows = await rowsOf(c.id);
      const v = early.get(c.id) as string[];
      const left = auto?.left.filter((u) => shots.some((s) => s.userId === u && s.couponId === c.id)) ?? [];
      if (left.length > 0)
        v.push(
          `ambiguous left ${windowS} s after the dependencies were back: ${left.length} (${left.slice(0, 5)})`,
        );
      // Both coupons exist all along: a 404 is a false final answer (a lookup that failed is a 503).
      const notFound = shots.filter((s) => s.couponId === c.id && s.status === 404).length;
      if (notFound > 0) v.push(`told 404 for a coupon that exists: ${notFound}`);
      // A 409 ALREADY_ISSUED is final: the user must hold a row (after the automatic settle, not a hand repair).
      const told = shots.filter(
        (s) => s.couponId === c.id && s.code === 'ALREADY_ISSUED' && !rows.has(s.userId),
      );
      if (told.length > 0)
        v.push(`told 409 ALREADY_ISSUED, no row: ${told.length} (${told.slice(0, 5).map((s) => s.userId)})`);
    }

    const ids = coupons.map((c) => c.id);
    const repair = await reconcile(ops, { couponIds: ids, repair: true, graceMs: 0 });
    await waitUntil(async () => {
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
      const v = early.get(c.id) as string[];
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
      const before = repair.coupons.find((r) => r.couponId === c.id);
      if (before && before.status !== 'ok')
        v.push(
          `reconcile --repair after the automatic settle: ${before.status}, missing ${before.missing}, ` +
            `row not admitted ${before.notAdmitted}, stock Δ ${before.stockDelta}`,
        );
      const report = final.coupons.find((r) => r.couponId === c.id);
      if (report?.status !== 'ok') v.push(`I4: reconcile after repair reports ${report?.status}`);
      // Per user (a retry makes two answers): never told 202, holds a row.
      const mine = shots.filter((s) => s.couponId === c.id && !acc.has(s.userId) && rows.has(s.userId));
      const ambiguous = new Set(mine.filter(unhealthy).map((s) => s.userId)).size;
      const odd = mine.filter((s) => !unhealthy(s) && s.code !== 'ALREADY_ISSUED');
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
        unpersisted202: unpersisted.get(c.id) ?? 0,
        violations: v,
        notes,
      });
    }
    return { accounts: out, auto };
  } finally {
    await ops.close();
  }
}
