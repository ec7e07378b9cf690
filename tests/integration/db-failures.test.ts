import { randomUUID } from 'node:crypto';
import { type CouponIssue, classify, DbPool, insertIssuesGuarded } from '@coupon/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { infra, testPool } from './harness.js';
import { createCouponRow, unusedCouponId } from './ops-fixtures.js';

// classify() (libs/db) against errors MariaDB itself raises on the persister's write path (the guarded
// insert), not fakes: a read-only or locked database backs off; only the rows' own data is poison.
// docs/decisions/0015-unlisted-db-errors-retry.md

/** One connection, so a session setting made here is the one the guarded insert runs on. */
async function onePool(...session: string[]): Promise<DbPool> {
  const pool = new DbPool({ url: infra().DATABASE_URL, maximumPoolSize: 1, connectionTimeoutMs: 5_000 });
  await pool.with(async (c) => {
    for (const sql of session) await c.query(sql);
  });
  return pool;
}

async function failure(pool: DbPool, rows: CouponIssue[]) {
  const err = await insertIssuesGuarded(pool, rows).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, 'the insert should have failed').toBeDefined();
  return classify(err);
}

const row = (couponId: number, userId: number, eventId: string = randomUUID()): CouponIssue => ({
  couponId,
  userId,
  eventId,
  issuedAt: new Date(),
});

describe('classify on real MariaDB errors from the guarded insert', () => {
  const admin = testPool();
  let couponId: number;
  beforeAll(async () => {
    couponId = await unusedCouponId(admin);
    await createCouponRow(admin, couponId, 100);
  });
  afterAll(() => admin.end());

  it('error: a read-only session (1792) is a server state: retried, not poison', async () => {
    const pool = await onePool('SET SESSION TRANSACTION READ ONLY');
    try {
      expect(await failure(pool, [row(couponId, 1), row(couponId, 2)])).toMatchObject({
        kind: 'server',
        retry: true,
        code: 'ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION',
        errno: 1792,
      });
    } finally {
      await pool.end();
    }
  });

  it('error: a lock wait timeout (1205) behind another transaction is retried', async () => {
    const pool = await onePool('SET SESSION innodb_lock_wait_timeout = 1');
    const holder = await admin.acquire();
    try {
      await holder.beginTransaction();
      await holder.query('SELECT id FROM coupon WHERE id = ? FOR UPDATE', [couponId]);
      expect(await failure(pool, [row(couponId, 3)])).toMatchObject({
        kind: 'server',
        retry: true,
        code: 'ER_LOCK_WAIT_TIMEOUT',
        errno: 1205,
      });
    } finally {
      await holder.rollback();
      admin.release(holder);
      await pool.end();
    }
  });

  it("error: an event for a coupon that does not exist (1452) is the row's data: poison", async () => {
    const missing = await unusedCouponId(admin);
    expect(await failure(admin, [row(missing, 1)])).toMatchObject({
      kind: 'data',
      retry: false,
      code: 'ER_NO_REFERENCED_ROW_2',
      errno: 1452,
    });
  });

  it("error: an event id longer than its column (1406) is the row's data: poison", async () => {
    expect(await failure(admin, [row(couponId, 4, 'x'.repeat(37))])).toMatchObject({
      kind: 'data',
      retry: false,
      code: 'ER_DATA_TOO_LONG',
      errno: 1406,
    });
  });

  it('happy: after the failures the coupon took none of those rows and still takes a good one', async () => {
    expect(await insertIssuesGuarded(admin, [row(couponId, 5)])).toEqual({
      verdicts: ['inserted'],
      inserted: 1,
    });
    const [rows] = await admin.raw.query('SELECT user_id FROM coupon_issue WHERE coupon_id = ?', [couponId]);
    expect((rows as Array<{ user_id: number }>).map((r) => Number(r.user_id))).toEqual([5]);
  });
});
