import { gateKeys } from '@coupon/contracts';
import { countIssues, hasIssue } from '@coupon/db';
import { Gate } from '@coupon/gate';
import { createRedis } from '@coupon/kit';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PrivateRedis } from '../faults/private-redis.js';
import { type Answer, issue, type System, startSystem, tally, testPool, userIds } from './harness.js';
import { until } from './ops-fixtures.js';

// The issuer WAITs for one replica after each gate pipeline: a private primary and replica, so the
// replica can be paused (SIGSTOP) without touching the shared Redis.
const STALL_MS = Number(process.env.WAIT_STALL_MS ?? 3_000);
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
  it('happy → error → happy: replica up 202; replica paused 503 fast, slot released, no event; resumed, the retry is 202', async () => {
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
    // Nothing was produced: the slot went back at once, so the retry is admitted (not ALREADY_ISSUED).
    expect(await gate.isAdmitted(coupon.id, u2)).toBe(false);
    expect(await gate.state(coupon.id)).toMatchObject({ remaining: 9, admitted: 1 });

    await until(
      () => redis.info('replication'),
      (s) => /state=online/.test(s),
    );
    expect((await issue(sys.url, u2, coupon.id)).status).toBe(202);
    expect((await issue(sys.url, u3, coupon.id)).status).toBe(202);
    expect(
      await until(
        () => countIssues(pool, coupon.id),
        (n) => n >= 3,
      ),
    ).toBe(3);
    expect(await hasIssue(pool, coupon.id, u2)).toBe(true);
  });

  it('error: a replica stall under concurrent load leaves no admitted slot without an event', async () => {
    const coupon = await sys.admin.createCoupon(100_000);
    const users = userIds(20_000);
    let next = 0;
    const answers: Answer[] = [];
    replica.pause();
    const end = Date.now() + STALL_MS;
    const worker = async () => {
      while (Date.now() < end && next < users.length)
        answers.push(await issue(sys.url, users[next++]!, coupon.id));
    };
    await Promise.all(Array.from({ length: 64 }, worker));
    replica.resume();
    await until(
      () => redis.info('replication'),
      (s) => /state=online/.test(s),
    );
    // Quiet: pipelines that timed out in the client but still ran have run; the persister caught up.
    const settle = async () => [
      await redis.scard(gateKeys(coupon.id)[2]),
      await countIssues(pool, coupon.id),
    ];
    let last = '';
    await until(
      async () => JSON.stringify(await settle()),
      (v) => {
        const same = v === last;
        last = v;
        return same;
      },
    );
    await new Promise((r) => setTimeout(r, 2_000));
    const [admitted, rows] = (await settle()) as [number, number];
    const accepted = answers.filter((a) => a.status === 202).length;
    console.log(
      `replica stall ${STALL_MS} ms, 64 clients: ${JSON.stringify(tally(answers))}; ` +
        `admitted ${admitted}, rows ${rows}, slots without an event ${admitted - rows}`,
    );
    expect(rows).toBe(accepted);
    expect(admitted - rows).toBe(0);
  });
});
