import { ClientLimiter } from '@coupon/gateway';
import { createLogger, createRedis, waitForRedis } from '@coupon/kit';
import type { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { infra } from './harness.js';

const log = createLogger('test', 'silent');
const clients: Redis[] = [];
const redis = (url: string) => {
  const r = createRedis({ url, failFast: false }, log);
  clients.push(r);
  return r;
};

afterAll(() => {
  for (const r of clients) r.disconnect();
});

describe('per-client limits shared through Redis (RATE_LIMIT_SHARED)', () => {
  it('happy: two gateways share one user budget', async () => {
    const keyPrefix = `test-clients-${Date.now()}`;
    const url = infra().REDIS_URL;
    const [ra, rb] = [redis(url), redis(url)];
    // Connected first: before that the limiter answers from its memory insurance (tested below).
    await Promise.all([waitForRedis(ra), waitForRedis(rb)]);
    // A generous Redis budget: on a starved machine a slow answer would be decided in memory.
    const cfg = { limits: { userPerSec: 4, addressPerSec: 0 }, keyPrefix, redisTimeoutMs: 5_000 };
    const a = new ClientLimiter({ ...cfg, redis: ra });
    const b = new ClientLimiter({ ...cfg, redis: rb });
    const verdicts = [];
    for (let i = 0; i < 3; i++) verdicts.push(await a.user(42), await b.user(42));
    expect(verdicts.filter((v) => v === undefined)).toHaveLength(4);
    // The last two (the 5th and 6th for one user across both gateways): a wait of at least a second.
    expect(verdicts.slice(4)).toEqual([expect.any(Number), expect.any(Number)]);
    for (const v of verdicts.slice(4)) expect(v).toBeGreaterThanOrEqual(1);
  });

  it('error: Redis unreachable: each gateway limits in memory (insurance), never an error', async () => {
    // A port nothing listens on (within this worktree's range): ioredis never gets ready.
    const down = redis('redis://127.0.0.1:24999');
    const l = new ClientLimiter({
      limits: { userPerSec: 2, addressPerSec: 0 },
      redis: down,
      keyPrefix: 'down',
    });
    const t0 = performance.now();
    const verdicts = [await l.user(1), await l.user(1), await l.user(1)];
    expect(verdicts.slice(0, 2)).toEqual([undefined, undefined]);
    expect(verdicts[2]).toBeGreaterThanOrEqual(1);
    expect(l.stats.errors).toBe(0);
    expect(performance.now() - t0).toBeLessThan(1_000);
  });
});
