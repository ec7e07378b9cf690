import { and, count, eq, inArray } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/mysql2';
import type { PoolConnection } from 'mysql2/promise';
import type { DbPool } from './pool.js';
import { type Coupon, coupon, couponIssue, couponRefusal } from './schema.js';

function orm(conn: PoolConnection) {
  return drizzle({ client: conn });
}

export interface NewCoupon {
  name: string;
  quantity: number;
  opensAt: Date;
  closesAt: Date;
}

export async function insertCoupon(pool: DbPool, c: NewCoupon): Promise<Coupon> {
  return pool.with(async (conn) => {
    const [res] = await orm(conn).insert(coupon).values(c).$returningId();
    if (!res) throw new Error('insert coupon returned no id');
    const [row] = await orm(conn).select().from(coupon).where(eq(coupon.id, res.id));
    if (!row) throw new Error(`coupon ${res.id} vanished after insert`);
    return row;
  });
}

export async function findCoupon(pool: DbPool, id: number): Promise<Coupon | undefined> {
  return pool.with(async (conn) => {
    const [row] = await orm(conn).select().from(coupon).where(eq(coupon.id, id));
    return row;
  });
}

export async function findCoupons(pool: DbPool, ids: number[]): Promise<Coupon[]> {
  if (ids.length === 0) return [];
  return pool.with((conn) => orm(conn).select().from(coupon).where(inArray(coupon.id, ids)));
}

export async function countIssues(pool: DbPool, couponId: number): Promise<number> {
  return pool.with(async (conn) => {
    const [row] = await orm(conn)
      .select({ n: count() })
      .from(couponIssue)
      .where(eq(couponIssue.couponId, couponId));
    return row?.n ?? 0;
  });
}

export async function hasIssue(pool: DbPool, couponId: number, userId: number): Promise<boolean> {
  return pool.with(async (conn) => {
    const rows = await orm(conn)
      .select({ id: couponIssue.id })
      .from(couponIssue)
      .where(and(eq(couponIssue.couponId, couponId), eq(couponIssue.userId, userId)))
      .limit(1);
    return rows.length > 0;
  });
}

/** Every user with a row for the coupon (reconcile and rewarm compare it with Redis). */
export async function issuedUserIds(pool: DbPool, couponId: number): Promise<number[]> {
  return pool.with(async (conn) => {
    const rows = await orm(conn)
      .select({ userId: couponIssue.userId })
      .from(couponIssue)
      .where(eq(couponIssue.couponId, couponId));
    return rows.map((r) => r.userId);
  });
}

/** Count of (coupon_id, user_id) pairs appearing more than once: must always be 0. */
export async function duplicateIssues(pool: DbPool, couponId: number): Promise<number> {
  return pool.with(async (conn) => {
    const [rows] = await conn.query(
      'SELECT COUNT(*) AS n FROM (SELECT user_id FROM coupon_issue WHERE coupon_id = ? GROUP BY user_id HAVING COUNT(*) > 1) d',
      [couponId],
    );
    return Number((rows as Array<{ n: number }>)[0]?.n ?? 0);
  });
}

/** ISSUED when the pair has a row, REFUSED when the quantity guard refused it (a row wins), else none. */
export async function issueRecord(
  pool: DbPool,
  couponId: number,
  userId: number,
): Promise<'ISSUED' | 'REFUSED' | undefined> {
  return pool.with(async (conn) => {
    const [rows] = await conn.query(
      `SELECT 'ISSUED' AS s FROM coupon_issue WHERE coupon_id = ? AND user_id = ?
       UNION ALL SELECT 'REFUSED' FROM coupon_refusal WHERE coupon_id = ? AND user_id = ?`,
      [couponId, userId, couponId, userId],
    );
    const found = new Set((rows as Array<{ s: string }>).map((r) => r.s));
    return found.has('ISSUED') ? 'ISSUED' : found.has('REFUSED') ? 'REFUSED' : undefined;
  });
}

/** How many refusals the quantity guard recorded for the coupon. */
export async function countRefusals(pool: DbPool, couponId: number): Promise<number> {
  return pool.with(async (conn) => {
    const [row] = await orm(conn)
      .select({ n: count() })
      .from(couponRefusal)
      .where(eq(couponRefusal.couponId, couponId));
    return row?.n ?? 0;
  });
}

/**
 * Among `userIds` (one chunk of an admitted set), the users with a row and the users refused without
 * a row, in one round trip through the unique indexes on (coupon_id, user_id).
 */
export async function settledAmong(
  pool: DbPool,
  couponId: number,
  userIds: readonly number[],
): Promise<{ issued: Set<number>; refused: Set<number> }> {
  const issued = new Set<number>();
  const refused = new Set<number>();
  if (userIds.length === 0) return { issued, refused };
  const ids = [...userIds];
  const found = await pool.with(async (conn) => {
    const [rows] = await conn.query(
      `SELECT user_id AS u, 1 AS s FROM coupon_issue WHERE coupon_id = ? AND user_id IN (?)
       UNION ALL SELECT user_id, 2 FROM coupon_refusal WHERE coupon_id = ? AND user_id IN (?)`,
      [couponId, ids, couponId, ids],
    );
    return rows as Array<{ u: number | string; s: number | string }>;
  });
  for (const r of found) if (Number(r.s) === 1) issued.add(Number(r.u));
  for (const r of found) if (Number(r.s) === 2 && !issued.has(Number(r.u))) refused.add(Number(r.u));
  return { issued, refused };
}

/** One page of the coupon's row users in user order, after `afterUserId` (keyset paging on the unique index). */
export async function issuedUserIdsAfter(
  pool: DbPool,
  couponId: number,
  afterUserId: number,
  limit: number,
): Promise<number[]> {
  return pool.with(async (conn) => {
    const [rows] = await conn.query(
      'SELECT user_id AS u FROM coupon_issue WHERE coupon_id = ? AND user_id > ? ORDER BY user_id LIMIT ?',
      [couponId, afterUserId, limit],
    );
    return (rows as Array<{ u: number | string }>).map((r) => Number(r.u));
  });
}

/** Rows of the coupon, and refusals without a row: what a clean gate's admitted set counts. */
export async function countSettled(
  pool: DbPool,
  couponId: number,
): Promise<{ rows: number; refused: number }> {
  return pool.with(async (conn) => {
    const [rows] = await conn.query(
      `SELECT (SELECT COUNT(*) FROM coupon_issue WHERE coupon_id = ?) AS n_rows,
              (SELECT COUNT(*) FROM coupon_refusal r WHERE r.coupon_id = ?
                 AND NOT EXISTS (SELECT 1 FROM coupon_issue i WHERE i.coupon_id = r.coupon_id AND i.user_id = r.user_id)
              ) AS n_refused`,
      [couponId, couponId],
    );
    const row = (rows as Array<{ n_rows: number | string; n_refused: number | string }>)[0];
    return { rows: Number(row?.n_rows ?? 0), refused: Number(row?.n_refused ?? 0) };
  });
}
