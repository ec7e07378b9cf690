import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, infra, issue, type System, startSystem, userIds } from './harness.js';
import { FaultProxy } from './proxy.js';

/**
 * DATABASE_READ_URL: the status endpoint and the admin statistics read there, through a fault
 * proxy standing in for a replica; the issue path, coupon creation and the persister's writes do not.
 */
let sys: System;
let replica: FaultProxy;

beforeAll(async () => {
  const db = new URL(infra().DATABASE_URL);
  replica = await new FaultProxy(Number(db.port)).start();
  db.port = String(replica.port);
  sys = await startSystem({ issuerEnv: { DATABASE_READ_URL: db.toString(), REPLICA_LAG_PROBE_MS: '200' } });
});
afterAll(async () => {
  await sys?.stop();
  await replica?.stop();
});

describe('reads split to DATABASE_READ_URL', () => {
  it('happy: status and statistics come from the read pool, whose lag is a metric', async () => {
    const coupon = await sys.admin.createCoupon(10);
    const [user] = userIds(1) as [number];
    expect((await issue(sys.url, user, coupon.id)).status).toBe(202);
    await expect.poll(() => sys.admin.stats(coupon.id)).toMatchObject({ persisted: 1 });
    const res = await fetch(`${sys.url}/coupons/${user}/issues/${coupon.id}`);
    expect(((await res.json()) as { state: string }).state).toBe('ISSUED');
    expect(replica.connections).toBeGreaterThan(0);
    const metrics = await (await fetch(`http://127.0.0.1:${sys.issuer.port}/metrics`)).text();
    expect(metrics).toMatch(/^db_replica_lag_seconds\{service="issuer"\} 0$/m);
  });

  it('error: with the replica down, issuing and the writes go on; statistics answer an honest 503', async () => {
    const coupon = await sys.admin.createCoupon(10);
    await replica.refuse();
    try {
      const users = userIds(3);
      const answers = await Promise.all(users.map((u) => issue(sys.url, u, coupon.id)));
      expect(answers.map((a) => a.status)).toEqual([202, 202, 202]);
      const stats = await fetch(`${sys.url}/admin/coupons/${coupon.id}/stats`, {
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      });
      expect(stats.status).toBe(503);
      expect(stats.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
    } finally {
      await replica.accept();
    }
    // Statistics answer 503 until the read pool has its replica back; expect.poll retries those.
    await expect.poll(() => sys.admin.stats(coupon.id)).toMatchObject({ persisted: 3 });
  });
});
