import { createRedis } from '@coupon/kit';
import Bottleneck from 'bottleneck';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { infra } from './harness.js';

// The pnpm patch of bottleneck 2.19.5 (patches/bottleneck@2.19.5.patch): Redis 7 answers a script's
// redis.error_reply('SETTINGS_KEY_NOT_FOUND') as "ERR SETTINGS_KEY_NOT_FOUND", which the unpatched
// RedisDatastore did not recognise, so it never re-created lost keys and failed every call for good.

let redis: Redis;
beforeAll(() => {
  redis = createRedis({ url: infra().REDIS_URL, failFast: false });
});
afterAll(async () => {
  await redis?.quit();
});

function limiter(id: string, extra: Bottleneck.ConstructorOptions = {}): Bottleneck {
  return new Bottleneck({
    id,
    reservoir: 100,
    datastore: 'ioredis',
    clearDatastore: true,
    connection: new Bottleneck.IORedisConnection({ client: redis }),
    ...extra,
  });
}

async function dropKeys(id: string): Promise<number> {
  const keys = await redis.keys(`b_${id}_*`);
  return keys.length > 0 ? redis.del(...keys) : 0;
}

describe('bottleneck RedisDatastore (patched)', () => {
  it('error: the settings and client keys are deleted → the next call re-creates them with the configured reservoir', async () => {
    const id = `patch-${Date.now().toString(36)}`;
    const b = limiter(id);
    try {
      expect(await b.incrementReservoir(-30)).toBe(70);
      expect(await dropKeys(id)).toBeGreaterThan(0);
      // Unpatched: rejects with "ERR SETTINGS_KEY_NOT_FOUND" here, and on every later call.
      expect(await b.incrementReservoir(-30)).toBe(70);
      expect(await redis.hget(`b_${id}_settings`, 'reservoir')).toBe('70');
      // Only the client registry lost (UNKNOWN_CLIENT): the client registers again.
      await redis.del(`b_${id}_client_last_seen`);
      expect(await b.currentReservoir()).toBe(70);
    } finally {
      await b.disconnect(false);
      await dropKeys(id);
    }
  });

  it('error: a job heavier than maxConcurrent is refused with bottleneck’s own error, not the raw Redis one', async () => {
    const id = `patch-ow-${Date.now().toString(36)}`;
    const b = limiter(id, { maxConcurrent: 1 });
    try {
      const err = await b.schedule({ weight: 2 }, async () => 1).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(Bottleneck.BottleneckError);
      expect((err as Error).message).toMatch(/weight of 2 .* maxConcurrent setting of 1/);
    } finally {
      await b.disconnect(false);
      await dropKeys(id);
    }
  });
});
