import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from './log.js';

export interface RedisConfig {
  url: string;
  /** Fail commands fast while disconnected instead of queueing them (the caller answers 503). */
  failFast?: boolean;
  options?: RedisOptions;
}

/**
 * ioredis client with our defaults: bounded reconnect back-off, an error listener always attached
 * (an unhandled 'error' event would crash the process), commands fail fast while disconnected.
 */
export function createRedis(cfg: RedisConfig, log?: Logger): Redis {
  const failFast = cfg.failFast ?? true;
  const redis = new Redis(cfg.url, {
    lazyConnect: false,
    connectTimeout: 2_000,
    commandTimeout: 2_000,
    maxRetriesPerRequest: failFast ? 1 : 20,
    enableOfflineQueue: !failFast,
    retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 6), 2_000),
    ...cfg.options,
  });
  let last = 0;
  redis.on('error', (err: Error) => {
    const now = Date.now();
    if (now - last > 5_000) {
      last = now;
      log?.warn({ err: err.message }, 'RedisConnectionError: redis unavailable');
    }
  });
  return redis;
}

/** Resolves when the client is ready, rejects after `ms`. */
export async function waitForRedis(redis: Redis, ms = 10_000): Promise<void> {
  if (redis.status === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      redis.off('ready', onReady);
      reject(new Error(`redis not ready after ${ms} ms`));
    }, ms);
    const onReady = () => {
      clearTimeout(timer);
      resolve();
    };
    redis.once('ready', onReady);
  });
}
