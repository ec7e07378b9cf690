import { randomUUID } from 'node:crypto';
import { gateLockKey } from '@coupon/contracts';
import type { Redis } from 'ioredis';
import { UNLOCK } from './scripts.js';

/** A held rebuild lock. The rebuild scripts check its token, so a holder whose lock expired writes nothing. */
export interface GateLock {
  couponId: number;
  token: string;
  /** Compare-and-delete: true when the lock was still ours. */
  release(): Promise<boolean>;
}

/**
 * Takes the coupon's rebuild lock (SET NX PX with a random token, key in the coupon's hash tag), or
 * returns undefined when someone else holds it. The TTL bounds how long a crashed holder blocks.
 */
export function acquireGateLock(
  redis: Redis,
  couponId: number,
  ttlMs: number,
): Promise<GateLock | undefined> {
  return acquireLock(redis, gateLockKey(couponId), couponId, ttlMs);
}

/** The same lock on another key of the coupon (reconcile's): SET NX PX with a token, compare-and-delete. */
export async function acquireLock(
  redis: Redis,
  key: string,
  couponId: number,
  ttlMs: number,
): Promise<GateLock | undefined> {
  const token = randomUUID();
  const ok = await redis.set(key, token, 'PX', ttlMs, 'NX');
  if (ok !== 'OK') return undefined;
  return {
    couponId,
    token,
    release: async () => Number(await redis.eval(UNLOCK, 1, key, token)) === 1,
  };
}
