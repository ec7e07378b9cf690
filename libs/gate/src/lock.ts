import { randomUUID } from 'node:crypto';
import { gateLockKey } from '@coupon/contracts';
import type { Redis } from 'ioredis';
import { evalScript } from './lua.js';
import { RENEW, UNLOCK } from './scripts.js';

/** The two commands a lock takes (a Redis Cluster client has them too). */
type LockRedis = Pick<Redis, 'set' | 'eval'>;

/** A held rebuild lock. The rebuild scripts check its token, so a holder whose lock expired writes nothing. */
export interface GateLock {
  couponId: number;
  token: string;
  ttlMs: number;
  /** Compare-and-PEXPIRE to ttlMs: true when the lock was still ours. */
  renew(): Promise<boolean>;
  /** Compare-and-delete: true when the lock was still ours. */
  release(): Promise<boolean>;
}

/**
 * Takes the coupon's rebuild lock (SET NX PX with a random token, key in the coupon's hash tag), or
 * returns undefined when someone else holds it. The TTL bounds how long a crashed holder blocks;
 * a live holder keeps it with keepGateLock for as long as its work takes.
 */
export function acquireGateLock(
  redis: LockRedis,
  couponId: number,
  ttlMs: number,
): Promise<GateLock | undefined> {
  return acquireLock(redis, gateLockKey(couponId), couponId, ttlMs);
}

/** The same lock on another key of the coupon (reconcile's): SET NX PX with a token, compare-and-delete. */
export async function acquireLock(
  redis: LockRedis,
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
    ttlMs,
    renew: async () => Number(await evalScript(redis, RENEW, { lock: key }, { token, ttlMs })) === 1,
    release: async () => Number(await evalScript(redis, UNLOCK, { lock: key }, { token })) === 1,
  };
}

/** A lock kept alive: `signal` aborts when a renewal found it lost; stop() ends the renewals. */
export interface KeptLock {
  signal: AbortSignal;
  stop(): void;
}

/**
 * Renews the lock every ttl/3 while its holder works. A renewal that finds the lock gone or held by
 * another token aborts `signal` (the holder must stop: its scripts would be refused anyway); one
 * that fails (Redis not answering) is retried at the next tick, and the TTL left covers two of them.
 */
export function keepGateLock(lock: GateLock): KeptLock {
  const lost = new AbortController();
  const timer = setInterval(
    () => {
      lock.renew().then(
        (ours) => {
          if (!ours) {
            clearInterval(timer);
            lost.abort(
              new Error(`coupon ${lock.couponId}: lock lost (its renewal found another token or none)`),
            );
          }
        },
        () => undefined,
      );
    },
    Math.max(10, Math.floor(lock.ttlMs / 3)),
  );
  timer.unref();
  return { signal: lost.signal, stop: () => clearInterval(timer) };
}
