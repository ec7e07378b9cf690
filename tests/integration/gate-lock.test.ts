import { gateKeys, gateLockKey } from '@coupon/contracts';
import { acquireGateLock, Gate, gateSnapshot } from '@coupon/gate';
import { createRedis } from '@coupon/kit';
import { afterAll, describe, expect, it } from 'vitest';
import { sleep } from '../support/index.js';
import { infra, userIds } from './harness.js';

const redis = createRedis({ url: infra().REDIS_URL, failFast: false });
afterAll(() => redis.quit());
/** A coupon id no other test uses (the lock key is all that is touched). */
const couponId = () => userIds(1)[0]!;

describe("the gate's rebuild lock", () => {
  it('happy: one holder at a time; released by its holder, then free again', async () => {
    const id = couponId();
    const a = await acquireGateLock(redis, id, 10_000);
    expect(a).toBeDefined();
    expect(await acquireGateLock(redis, id, 10_000)).toBeUndefined();
    expect(await redis.pttl(gateLockKey(id))).toBeGreaterThan(9_000);
    expect(await a?.release()).toBe(true);
    const b = await acquireGateLock(redis, id, 10_000);
    expect(b).toBeDefined();
    await b?.release();
  });

  it('error: a holder whose lock expired cannot release the next holder’s lock', async () => {
    const id = couponId();
    const stale = await acquireGateLock(redis, id, 50);
    await sleep(120);
    const fresh = await acquireGateLock(redis, id, 10_000);
    expect(fresh).toBeDefined();
    expect(await stale?.release()).toBe(false);
    expect(await redis.get(gateLockKey(id))).toBe(fresh?.token);
    expect(await fresh?.release()).toBe(true);
    expect(await redis.exists(gateLockKey(id))).toBe(0);
  });

  it('security: the rebuild writes only while its lock holds its token; never over a present gate', async () => {
    const id = couponId();
    const gate = new Gate(redis);
    const c = { id, quantity: 5, opensAt: new Date(0), closesAt: new Date('2999-01-01Z') };
    const lock = await acquireGateLock(redis, id, 10_000);
    try {
      expect(await gate.rebuild(c, [1, 2], 'not-the-token')).toBe('lock lost');
      expect(await redis.exists(...gateKeys(id))).toBe(0);
      expect(await gate.rebuild(c, [1, 2, 2], lock!.token)).toBe('loaded');
      expect(await gateSnapshot(redis, id)).toMatchObject({ quantity: 5, remaining: 3 });
      expect(await gate.rebuild(c, [], lock!.token)).toBe('present');
      expect(await gate.rebuild(c, [1, 2, 3], lock!.token, true)).toBe('loaded');
      expect(await gateSnapshot(redis, id)).toMatchObject({ remaining: 2 });
    } finally {
      await lock?.release();
      await redis.del(...gateKeys(id));
    }
  });

  it('happy: the key shares the coupon’s hash tag (one Redis Cluster slot with the gate)', () => {
    expect(gateLockKey(42)).toMatch(/^\{coupon:42\}:/);
  });
});
