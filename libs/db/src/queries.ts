import { and, count, eq, inArray, sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/mysql2';
import type { PoolConnection } from 'mysql2/promise';
import type { DbPool } from './pool.js';
import { type Coupon, type CouponIssue, coupon, couponIssue } from './schema.js';

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

/**
 * Writes many issues in one statement. A row whose (coupon_id, user_id) already exists is kept as
 * it is: a redelivered or replayed event is a success, never a duplicate. Returns rows inserted.
 */
export async function insertIssues(pool: DbPool, rows: CouponIssue[]): Promise<number> {
  if (rows.length === 0) return 0;
  return pool.with(async (conn) => {
    const [res] = await orm(conn)
      .insert(couponIssue)
      .values(rows)
      .onDuplicateKeyUpdate({ set: { id: sql`${couponIssue.id}` } });
    return res.affectedRows;
  });
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
