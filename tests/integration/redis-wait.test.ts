import { gateKeys } from '@coupon/contracts';
import { countIssues, hasIssue } from '@coupon/db';
import { Gate } from '@coupon/gate';
import { createRedis } from '@coupon/kit';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { PrivateRedis } from '../faults/private-redis.js';
import { sleep } from '../support/index.js';
import { type Answer, issue, type System, startSystem, tally, testPool, userIds } from './harness.js';

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
  // expect.poll is for tests only; in a hook vi.waitFor retries the assertion.
  await vi.waitFor(
    async () => expect(await redis.info('replication')).toMatch(/connected_slaves:1[\s\S]*state=online/),
    { timeout: 30_000, interval: 250 },
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
    expect(paused.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
    expect(pausedMs).toBeLessThan(1_500);
    // Nothing was produced: the slot went back at once, so the retry is admitted (not ALREADY_ISSUED).
    expect(await gate.isAdmitted(coupon.id, u2)).toBe(false);
    expect(await gate.state(coupon.id)).toMatchObject({ remaining: 9, admitted: 1 });

    await expect.poll(() => redis.info('replication')).toMatch(/state=online/);
    expect((await issue(sys.url, u2, coupon.id)).status).toBe(202);
    expect((await issue(sys.url, u3, coupon.id)).status).toBe(202);
    await expect.poll(() => countIssues(pool, coupon.id)).toBe(3);
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
    await expect.poll(() => redis.info('replication')).toMatch(/state=online/);
    // Quiet: pipelines that timed out in the client but still ran have run; the persister caught up.
    const settle = async () => [
      await redis.scard(gateKeys(coupon.id)[2]),
      await countIssues(pool, coupon.id),
    ];
    let last = '';
    const unchanged = async () => {
      const now = JSON.stringify(await settle());
      const same = now === last;
      last = now;
      return same;
    };
    await expect.poll(unchanged, { message: 'admitted and rows stop moving' }).toBe(true);
    await sleep(2_000);
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
