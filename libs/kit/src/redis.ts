import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from './log.js';

export interface SentinelAddress {
  host: string;
  port: number;
}

export interface RedisConfig {
  /**
   * The Redis itself; with `sentinels`, only its database number (`/N`) and credentials are used
   * (the address of the primary comes from the Sentinels).
   */
  url: string;
  /** Sentinels to ask for the current primary (Redis Sentinel); empty or absent: `url` is the Redis. */
  sentinels?: readonly SentinelAddress[];
  /** The primary's name in the Sentinels' configuration (`sentinel monitor <name> ...`). */
  sentinelMaster?: string;
  /** Fail commands fast while disconnected instead of queueing them (the caller answers 503). */
  failFast?: boolean;
  options?: RedisOptions;
}

/** The parsed REDIS_URL / REDIS_SENTINELS / REDIS_SENTINEL_MASTER (`redisEnv`) as a RedisConfig. */
export function redisTarget(env: {
  REDIS_URL: string;
  REDIS_SENTINELS: readonly SentinelAddress[];
  REDIS_SENTINEL_MASTER: string;
}): Pick<RedisConfig, 'url' | 'sentinels' | 'sentinelMaster'> {
  return { url: env.REDIS_URL, sentinels: env.REDIS_SENTINELS, sentinelMaster: env.REDIS_SENTINEL_MASTER };
}

/** "host:port,host:port" → addresses; throws on an entry without a valid port. */
export function parseSentinels(list: string): SentinelAddress[] {
  return list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => {
      const i = s.lastIndexOf(':');
      const host = s.slice(0, i).replace(/^\[(.*)\]$/, '$1');
      const port = Number(s.slice(i + 1));
      if (i <= 0 || !Number.isInteger(port) || port < 1 || port > 65_535)
        throw new Error(`"${s}" is not host:port`);
      return { host, port };
    });
}

/**
 * Errors that mean "this node is not a primary that can take writes": a demoted old primary
 * (READONLY) or a primary cut off from its replicas (NOREPLICAS, min-replicas-to-write). Through
 * Sentinel the client drops the connection and asks the Sentinels again. The failing command is
 * rejected, never re-sent (reconnectOnError answers 1, not 2): see the issuer's
 * autoResendUnfulfilledCommands.
 */
export function isNotPrimaryError(err: Error): boolean {
  return /^(READONLY|NOREPLICAS|MASTERDOWN)\b/.test(err.message);
}

/** Options of a client that finds the primary through Sentinel and follows a failover quickly. */
function sentinelOptions(cfg: RedisConfig): RedisOptions {
  const url = new URL(cfg.url);
  const db = Number(url.pathname.slice(1) || 0);
  return {
    sentinels: cfg.sentinels?.map((s) => ({ host: s.host, port: s.port })),
    name: cfg.sentinelMaster ?? 'coupon',
    role: 'master',
    db: Number.isInteger(db) ? db : 0,
    username: url.username ? decodeURIComponent(url.username) : undefined,
    password: url.password ? decodeURIComponent(url.password) : undefined,
    // The ready check (on by default) reads INFO and refuses a node whose role is not master, so a
    // Sentinel answering with a stale address makes the client ask again instead of using a replica.
    enableReadyCheck: true,
    // Subscribe to +switch-master on the Sentinels: the client leaves the old primary as soon as a
    // failover is announced, not when its connection happens to break.
    failoverDetector: true,
    sentinelCommandTimeout: 1_000,
    // Every Sentinel unreachable: ask again soon (the default goes up to 1 s too, this starts faster).
    sentinelRetryStrategy: (times) => Math.min(100 * times, 1_000),
    reconnectOnError: (err) => (isNotPrimaryError(err) ? 1 : false),
    // A failover takes a few seconds (down-after + election): re-ask the Sentinels every 0.5 s at
    // most, so the client is on the new primary within about half a second of its promotion.
    retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 6), 500),
  };
}

/** ioredis's commandTimeout on every client: a reply not had by then fails the command (it may still run). */
export const REDIS_COMMAND_TIMEOUT_MS = 2_000;

/**
 * ioredis client with our defaults: bounded reconnect back-off, an error listener always attached
 * (an unhandled 'error' event would crash the process), commands fail fast while disconnected.
 * With `sentinels`, ioredis's own Sentinel support finds the primary and follows failovers.
 */
export function createRedis(cfg: RedisConfig, log?: Logger): Redis {
  const failFast = cfg.failFast ?? true;
  const common: RedisOptions = {
    lazyConnect: false,
    connectTimeout: 2_000,
    commandTimeout: REDIS_COMMAND_TIMEOUT_MS,
    maxRetriesPerRequest: failFast ? 1 : 20,
    enableOfflineQueue: !failFast,
    retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 6), 2_000),
  };
  const redis = cfg.sentinels?.length
    ? new Redis({ ...common, ...sentinelOptions(cfg), ...cfg.options })
    : new Redis(cfg.url, { ...common, ...cfg.options });
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
