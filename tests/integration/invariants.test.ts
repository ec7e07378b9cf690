import { countIssues, type DbPool, duplicateIssues } from '@coupon/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sleep } from '../support/index.js';
import { issue, type System, startSystem, tally, testPool, userIds } from './harness.js';

let sys: System;
let pool: DbPool;

beforeAll(async () => {
  sys = await startSystem({ gatewayEnv: { RATE_LIMIT_PER_SEC: '1000000', RATE_LIMIT_BURST: '1000000' } });
  pool = testPool();
});
afterAll(async () => {
  await sys?.stop();
  await pool?.end();
});

describe('invariants under concurrency and a stopped persister', () => {
  it('I1 + I2: 2,000 concurrent requests for a quantity of 500: exactly 500 rows, no duplicate', async () => {
    const coupon = await sys.admin.createCoupon(500);
    const users = userIds(1_500);
    const requests = [...users, ...users.slice(0, 500)].sort(() => Math.random() - 0.5);
    expect(requests).toHaveLength(2_000);
    const answers = await Promise.all(requests.map((u) => issue(sys.url, u, coupon.id)));
    const t = tally(answers);
    expect(t['202']).toBe(500);
    expect((t['409 SOLD_OUT'] ?? 0) + (t['409 ALREADY_ISSUED'] ?? 0)).toBe(1_500);

    await expect.poll(() => sys.admin.stats(coupon.id)).toMatchObject({ persisted: 500, remaining: 0 });
    expect(await countIssues(pool, coupon.id)).toBe(500);
    expect(await duplicateIssues(pool, coupon.id)).toBe(0);
    // Every 202 names a distinct user.
    const accepted = answers.filter((a) => a.status === 202).map((a) => a.body.issueId);
    expect(new Set(accepted).size).toBe(500);
  });

  it('I3: with the persister stopped, every 202 becomes exactly one row once it is back', async () => {
    await sys.persister?.stop();
    const coupon = await sys.admin.createCoupon(150);
    const answers = await Promise.all(userIds(200).map((u) => issue(sys.url, u, coupon.id)));
    expect(tally(answers)['202']).toBe(150);

    await sleep(500);
    expect((await sys.admin.stats(coupon.id)).persisted).toBe(0);
    const pending = answers.find((a) => a.status === 202);
    expect(pending).toBeDefined();

    await sys.startPersister();
    await expect
      .poll(() => sys.admin.stats(coupon.id))
      .toMatchObject({ admitted: 150, persisted: 150, remaining: 0 });
    expect(await duplicateIssues(pool, coupon.id)).toBe(0);
  });

  it('status: NONE before, PENDING while not persisted, ISSUED after', async () => {
    await sys.persister?.stop();
    const coupon = await sys.admin.createCoupon(5);
    const [user] = userIds(1) as [number];
    const state = async () =>
      ((await (await fetch(`${sys.url}/coupons/${user}/issues/${coupon.id}`)).json()) as { state: string })
        .state;
    expect(await state()).toBe('NONE');
    expect((await issue(sys.url, user, coupon.id)).status).toBe(202);
    expect(await state()).toBe('PENDING');
    await sys.startPersister();
    await expect.poll(() => sys.admin.stats(coupon.id)).toMatchObject({ persisted: 1 });
    expect(await state()).toBe('ISSUED');
  });
});
