import { countIssues, hasIssue } from '@coupon/db';
import { Gate } from '@coupon/gate';
import { createRedis } from '@coupon/kit';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PrivateRedis } from '../faults/private-redis.js';
import { issue, type System, startSystem, testPool, userIds } from './harness.js';
import { until } from './ops-fixtures.js';

// The issuer WAITs for one replica after each gate pipeline: a private primary and replica, so the
// replica can be paused (SIGSTOP) without touching the shared Redis.
let primary: PrivateRedis;
let replica: PrivateRedis;
let sys: System;
let redis: Redis;
const pool = testPool();

beforeAll(async () => {
  primary = await PrivateRedis.start();
  replica = await PrivateRedis.start(['--replicaof', '127.0.0.1', String(primary.port)]);
  redis = createRedis({ url: primary.url, failFast: false });
  await until(
    () => redis.info('replication'),
    (s) => /connected_slaves:1/.test(s) && /state=online/.test(s),
  );
  sys = await startSystem({
    issuerEnv: { REDIS_URL: primary.url, REDIS_WAIT_REPLICAS: '1', REDIS_WAIT_TIMEOUT_MS: '200' },
  });
});

afterAll(async () => {
  replica?.resume();
  await sys?.stop();
  await redis?.quit();
  await pool.end();
  await replica?.stop();
  await primary?.stop();
});

describe('WAIT after each gate pipeline (REDIS_WAIT_REPLICAS=1)', () => {
  it('happy → error → happy: replica up 202; replica paused 503 fast, slot kept, no event; resumed 202', async () => {
    const coupon = await sys.admin.createCoupon(10);
    const [u1, u2, u3] = userIds(3) as [number, number, number];
    const gate = new Gate(redis);

    expect((await issue(sys.url, u1, coupon.id)).status).toBe(202);

    replica.pause();
    const t0 = Date.now();
    const paused = await issue(sys.url, u2, coupon.id);
    const pausedMs = Date.now() - t0;
    replica.resume();
    console.log(`WAIT with the replica paused: ${paused.status} in ${pausedMs} ms`);
    expect(paused.status).toBe(503);
    expect(paused.body.error?.code).toBe('UNAVAILABLE');
    expect(paused.headers.get('retry-after')).toBeTruthy();
    expect(pausedMs).toBeLessThan(1_500);
    // Ambiguous, like a produce timeout: the slot stays taken (reconcile repairs it after its grace).
    expect(await gate.isAdmitted(coupon.id, u2)).toBe(true);
    expect(await gate.state(coupon.id)).toMatchObject({ remaining: 8, admitted: 2 });

    await until(
      () => redis.info('replication'),
      (s) => /state=online/.test(s),
    );
    expect((await issue(sys.url, u3, coupon.id)).status).toBe(202);
    // u1 and u3 are persisted; u2's event was never produced, so it has no row.
    expect(
      await until(
        () => countIssues(pool, coupon.id),
        (n) => n >= 2,
      ),
    ).toBe(2);
    await new Promise((r) => setTimeout(r, 1_000));
    expect(await hasIssue(pool, coupon.id, u2)).toBe(false);
    expect(await countIssues(pool, coupon.id)).toBe(2);
  });
});
