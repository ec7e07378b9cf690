import { countIssues, type DbPool, duplicateIssues } from '@coupon/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issue, type System, startSystem, tally, testPool, userIds } from './harness.js';

let sys: System;
let pool: DbPool;

beforeAll(async () => {
  sys = await startSystem();
  pool = testPool();
});
afterAll(async () => {
  await sys?.stop();
  await pool?.end();
});

describe('walking skeleton: gateway → issuer → Kafka → persister → MariaDB', () => {
  it('happy: 300 distinct users and 50 repeats race for 100 coupons; exactly 100 rows, answers match rows', async () => {
    const coupon = await sys.admin.createCoupon(100);
    const users = userIds(300);
    const repeats = users.slice(0, 50);
    const answers = await Promise.all([...users, ...repeats].map((u) => issue(sys.url, u, coupon.id)));

    const accepted = answers.filter((a) => a.status === 202);
    const conflicts = answers.filter((a) => a.status === 409);
    expect(tally(answers)['503 UNAVAILABLE'] ?? 0).toBe(0);
    expect(accepted).toHaveLength(100);
    expect(conflicts).toHaveLength(250);
    for (const a of conflicts) expect(['SOLD_OUT', 'ALREADY_ISSUED']).toContain(a.body.error?.code);

    await expect
      .poll(() => sys.admin.stats(coupon.id))
      .toMatchObject({ quantity: 100, admitted: 100, remaining: 0, persisted: 100, dlt: 0 });
    expect(await countIssues(pool, coupon.id)).toBe(accepted.length);
    expect(await duplicateIssues(pool, coupon.id)).toBe(0);
  });

  it('error: malformed ids get 400 with the JSON error body', async () => {
    const coupon = await sys.admin.createCoupon(10);
    const bad: Array<[string, string]> = [
      ['abc', String(coupon.id)],
      ['-1', String(coupon.id)],
      ['0', String(coupon.id)],
      ['1.5', String(coupon.id)],
      ['1e3', String(coupon.id)],
      ['99999999999999999999', String(coupon.id)],
      ['%EF%BC%91', String(coupon.id)], // fullwidth digit one
      ['7', 'x'],
      ['7', ''],
      ['7', '-3'],
    ];
    for (const [u, c] of bad) {
      const a = await issue(sys.url, u, c);
      expect(a.status, `${u} / ${c}`).toBe(400);
      expect(a.body.error?.code).toBe('INVALID_REQUEST');
      expect(a.body.error?.requestId).toEqual(expect.any(String));
      expect(a.body.error?.message).toEqual(expect.any(String));
    }
    const missing = await fetch(`${sys.url}/coupons/7/issue-async`, { method: 'POST' });
    expect(missing.status).toBe(400);
    const repeated = await fetch(`${sys.url}/coupons/7/issue-async?couponId=1&couponId=2`, {
      method: 'POST',
    });
    expect(repeated.status).toBe(400);
    expect((await sys.admin.stats(coupon.id)).admitted).toBe(0);
  });
});
