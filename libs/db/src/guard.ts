import type { PoolConnection, ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import type { DbPool } from './pool.js';
import type { CouponIssue } from './schema.js';

/**
 * What the guard did with one row, in the order given:
 * - `inserted`: a new row, counted in coupon.issued;
 * - `existing`: the (coupon, user) pair already had a row, or appeared earlier in the same call
 *   (redelivery, replay, reconcile): a success, not a new row, the counter does not move;
 * - `refused`: the coupon's quantity was reached; recorded in coupon_refusal now;
 * - `refusedAgain`: refused, and the pair was already recorded as refused (a redelivery or a DLT
 *   replay of a refused event).
 */
export type GuardVerdict = 'inserted' | 'existing' | 'refused' | 'refusedAgain';

export interface GuardResult {
  verdicts: GuardVerdict[];
  inserted: number;
}

/** n comma-separated placeholders (the values are bound, never inlined). */
function placeholders(n: number): string {
  return new Array(n).fill('?').join(',');
}

/**
 * Writes many issues in one transaction that never takes a coupon past its quantity, whatever the
 * Redis gate admitted:
 *  1. the batch's coupon rows are locked with SELECT … FOR UPDATE in id order (concurrent persisters
 *     on other partitions serialise per coupon only, and always lock in the same order: no deadlock);
 *  2. pairs that already have a row are successes and do not count;
 *  3. new pairs are accepted in the given (offset) order up to quantity − issued, inserted in one
 *     multi-row INSERT, and coupon.issued advances by exactly that many (with `issued + n <=
 *     quantity` in the UPDATE as a second check);
 *  4. the rest are recorded in coupon_refusal (once per pair).
 * Rows of a coupon that does not exist are inserted unguarded so the foreign key fails as before
 * (a non-retryable error: the writer narrows it down row by row into the DLT).
 * Every writer of coupon_issue must come through here: the lock is what makes the check exact.
 */
export async function insertIssuesGuarded(
  pool: DbPool,
  rows: readonly CouponIssue[],
  reason = 'OVER_QUANTITY',
): Promise<GuardResult> {
  if (rows.length === 0) return { verdicts: [], inserted: 0 };
  return pool.with(async (conn) => {
    await conn.beginTransaction();
    try {
      const result = await guarded(conn, rows, reason);
      await conn.commit();
      return result;
    } catch (err) {
      await conn.rollback().catch(() => undefined);
      throw err;
    }
  });
}

async function guarded(
  conn: PoolConnection,
  rows: readonly CouponIssue[],
  reason: string,
): Promise<GuardResult> {
  const ids = [...new Set(rows.map((r) => r.couponId))].sort((a, b) => a - b);
  const [locked] = await conn.query<RowDataPacket[]>(
    `SELECT id, quantity, issued FROM coupon WHERE id IN (${placeholders(ids.length)}) ORDER BY id FOR UPDATE`,
    ids,
  );
  const room = new Map<number, number>();
  for (const c of locked) room.set(Number(c.id), Math.max(0, Number(c.quantity) - Number(c.issued)));

  const existing = new Set<string>();
  for (const id of ids) {
    if (!room.has(id)) continue;
    const users = rows.filter((r) => r.couponId === id).map((r) => r.userId);
    const [found] = await conn.query<RowDataPacket[]>(
      `SELECT user_id FROM coupon_issue WHERE coupon_id = ? AND user_id IN (${placeholders(users.length)})`,
      [id, ...users],
    );
    for (const f of found) existing.add(`${id}:${f.user_id}`);
  }

  const verdicts: GuardVerdict[] = [];
  const accepted: CouponIssue[] = [];
  const refused: CouponIssue[] = [];
  const acceptedPer = new Map<number, number>();
  for (const r of rows) {
    const pair = `${r.couponId}:${r.userId}`;
    const left = room.get(r.couponId);
    if (existing.has(pair)) {
      verdicts.push('existing');
    } else if (left === undefined || left > 0) {
      existing.add(pair);
      accepted.push(r);
      verdicts.push('inserted');
      if (left !== undefined) {
        room.set(r.couponId, left - 1);
        acceptedPer.set(r.couponId, (acceptedPer.get(r.couponId) ?? 0) + 1);
      }
    } else {
      existing.add(pair); // a second refused event of the same pair in this call is the same refusal
      refused.push(r);
      verdicts.push('refused');
    }
  }

  if (accepted.length > 0) {
    await conn.query('INSERT INTO coupon_issue (coupon_id, user_id, event_id, issued_at) VALUES ?', [
      accepted.map((r) => [r.couponId, r.userId, r.eventId, r.issuedAt]),
    ]);
    for (const [id, n] of acceptedPer) {
      const [res] = await conn.query<ResultSetHeader>(
        'UPDATE coupon SET issued = issued + ? WHERE id = ? AND issued + ? <= quantity',
        [n, id, n],
      );
      if (res.affectedRows !== 1) throw new Error(`coupon ${id}: issued counter moved under its lock`);
    }
  }
  if (refused.length > 0) await recordRefusals(conn, rows, refused, verdicts, reason);
  return { verdicts, inserted: accepted.length };
}

/** Inserts the refusals not yet recorded; marks the others refusedAgain. */
async function recordRefusals(
  conn: PoolConnection,
  rows: readonly CouponIssue[],
  refused: readonly CouponIssue[],
  verdicts: GuardVerdict[],
  reason: string,
): Promise<void> {
  const known = new Set<string>();
  for (const id of new Set(refused.map((r) => r.couponId))) {
    const users = refused.filter((r) => r.couponId === id).map((r) => r.userId);
    const [found] = await conn.query<RowDataPacket[]>(
      `SELECT user_id FROM coupon_refusal WHERE coupon_id = ? AND user_id IN (${placeholders(users.length)})`,
      [id, ...users],
    );
    for (const f of found) known.add(`${id}:${f.user_id}`);
  }
  const fresh = refused.filter((r) => !known.has(`${r.couponId}:${r.userId}`));
  rows.forEach((r, i) => {
    if (verdicts[i] === 'refused' && known.has(`${r.couponId}:${r.userId}`)) verdicts[i] = 'refusedAgain';
  });
  if (fresh.length > 0)
    await conn.query('INSERT INTO coupon_refusal (coupon_id, user_id, event_id, reason) VALUES ?', [
      fresh.map((r) => [r.couponId, r.userId, r.eventId, reason]),
    ]);
}
