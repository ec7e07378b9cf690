import Bottleneck from 'bottleneck';
import type { Redis } from 'ioredis';

export interface RateLimitConfig {
  perSecond: number;
  burst: number;
  /** When given, the bucket lives in Redis and every gateway with the same id shares it. */
  redis?: Redis;
  id?: string;
}

const REFILL_INTERVAL_MS = 100;

/**
 * A token bucket on bottleneck's reservoir: refilled every 100 ms up to `burst`. The hot path takes
 * a token with one reservoir call; it never uses schedule(), which yields a timer tick per job and
 * tops out near 440 jobs/s.
 */
export class RateLimiter {
  readonly limiter: Bottleneck;
  readonly retryAfterSec: number;

  constructor(cfg: RateLimitConfig) {
    const refill = Math.max(1, Math.round((cfg.perSecond * REFILL_INTERVAL_MS) / 1_000));
    this.retryAfterSec = 1;
    this.limiter = new Bottleneck({
      id: cfg.id ?? 'coupon-gateway-rate',
      reservoir: cfg.burst,
      reservoirIncreaseAmount: refill,
      reservoirIncreaseInterval: REFILL_INTERVAL_MS,
      reservoirIncreaseMaximum: cfg.burst,
      ...(cfg.redis
        ? { datastore: 'ioredis', clearDatastore: false, connection: new Bottleneck.IORedisConnection({ client: cfg.redis }) }
        : {}),
    });
  }

  /** Takes one token; false when the bucket is empty. */
  async take(): Promise<boolean> {
    const left = await this.limiter.incrementReservoir(-1);
    if (typeof left === 'number' && left >= 0) return true;
    await this.limiter.incrementReservoir(1);
    return false;
  }

  stop(): Promise<void> {
    return this.limiter.disconnect(false);
  }
}
