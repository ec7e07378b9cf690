import { RateLimiter } from '@coupon/gateway';
import { createRedis } from '@coupon/kit';
import { describe, expect, inject, it } from 'vitest';

// The shared rate limiter's Redis clients on real Redis and the real (patched) bottleneck: it works
// on a Connection of its own (a duplicate of the caller's client, and the subscriber bottleneck
// duplicates from that), closed with connection.disconnect() as bottleneck's README says; the
// caller's client stays open for the caller.

describe('shared rate limiter: its Redis clients', () => {
  it('happy: stop() closes both clients of its own and leaves the caller’s client working', async () => {
    const name = `rl-${Date.now().toString(36)}`;
    const redis = createRedis({
      url: inject('infra').REDIS_URL,
      failFast: false,
      options: { connectionName: name },
    });
    const named = async () =>
      String(await redis.client('LIST'))
        .split('\n')
        .filter((l) => l.includes(` name=${name} `)).length;
    try {
      const limiter = new RateLimiter({ perSecond: 1_000, burst: 1_000, redis, id: name });
      expect(await limiter.take()).toBe(true);
      expect(limiter.mode).toBe('shared');
      // The caller's client, the limiter's client and its subscriber.
      expect(await named()).toBe(3);
      await limiter.stop();
      await expect.poll(named).toBe(1);
      expect(redis.status).toBe('ready');
      expect(await redis.ping()).toBe('PONG');
    } finally {
      const keys = await redis.keys(`b_${name}_*`);
      if (keys.length > 0) await redis.del(...keys);
      await redis.quit();
    }
  });
});
