import type { Redis } from 'ioredis';
import {
  type RateLimiterAbstract,
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
  RLWrapperTimeouts,
} from 'rate-limiter-flexible';

/** Requests per second per user and per client address; 0 turns that limit off. */
export interface ClientLimits {
  userPerSec: number;
  addressPerSec: number;
}

export interface ClientLimiterConfig {
  limits: ClientLimits;
  /** When given, the counters live in Redis and every gateway shares them (RATE_LIMIT_SHARED). */
  redis?: Redis;
  /**
   * false: the per-user counters stay in memory even with `redis` (RATE_LIMIT_USER_SHARED=false:
   * the load balancer routes by user, so one gateway sees all of a user's requests).
   */
  sharedUsers?: boolean;
  /** Redis key prefix; gateways that share limits share it. */
  keyPrefix?: string;
  /** A Redis call that has not answered after this long is decided by the memory limiter. */
  redisTimeoutMs?: number;
}

/** Plain counters the metrics read on scrape. */
export interface ClientLimiterStats {
  userRejected: number;
  addressRejected: number;
  /** Decisions the limiter could not take (an error past the insurance): admitted, never a 5xx. */
  errors: number;
}

/** Seconds until the client may try again, or undefined when admitted. */
export type Verdict = number | undefined;

type Kind = 'user' | 'address';

/** A limit as rate-limiter-flexible counts it: `points` requests every `durationSec` (points 0: off). */
export interface ClientWindow {
  points: number;
  durationSec: number;
}

/** Answer the shared counters within this long, or the per-gateway memory limiter decides. */
const REDIS_TIMEOUT_MS = 200;

/**
 * Per-user and per-client-address limits at the edge, on rate-limiter-flexible: a fixed window of
 * one second per key, in memory per gateway, or in Redis across gateways with a memory limiter as
 * insurance (Redis down, slow or not ready: each gateway limits on its own, as the global bucket
 * does). A key over its limit in Redis is then blocked in memory for the rest of its window, so a
 * client hammering costs no Redis call. A limit of 0 costs nothing. The global bucket (rate-limit.ts)
 * stays beside these. A Redis counter costs a round trip per request (about as much gateway CPU as the
 * rest of a sold-out answer, and a replicated write in Redis): behind a load balancer that routes by
 * user, `sharedUsers: false` keeps the per-user counters in memory (loadtests/CPU.md, decisions/0018).
 *
 * setLimits() changes the limits at run time; the counters of the current window start again.
 */
export class ClientLimiter {
  readonly stats: ClientLimiterStats = { userRejected: 0, addressRejected: 0, errors: 0 };
  private limits_: ClientLimits;
  /** The operator's run-time windows (PATCH /admin/settings perUser / perAddress); null: the limits'. */
  private windows: Record<Kind, ClientWindow | null> = { user: null, address: null };
  private user_: RateLimiterAbstract | undefined;
  private address_: RateLimiterAbstract | undefined;

  constructor(private readonly cfg: ClientLimiterConfig) {
    this.limits_ = { ...cfg.limits };
    this.build();
  }

  get limits(): ClientLimits {
    return { ...this.limits_ };
  }

  /** New limits, in place: the next request is limited by them. Returns the old ones. */
  setLimits(next: Partial<ClientLimits>): ClientLimits {
    const old = this.limits;
    for (const [k, v] of Object.entries(next)) {
      if (v !== undefined && !(Number.isInteger(v) && v >= 0))
        throw new RangeError(`${k} must be an integer ≥ 0, not ${v}`);
    }
    this.limits_ = { ...this.limits_, ...next };
    this.build();
    return old;
  }

  /**
   * The operator's run-time windows (contracts' runtime settings perUser / perAddress); null goes
   * back to this gateway's own per-second limit. The counters of the current window start again.
   */
  setWindows(user: ClientWindow | null, address: ClientWindow | null): void {
    this.windows = { user, address };
    this.build();
  }

  /** One request of `userId`: admitted (undefined, often at once) or the seconds to wait. */
  user(userId: number | string): Verdict | Promise<Verdict> {
    return this.user_ ? this.consume(this.user_, String(userId), 'user') : undefined;
  }

  /** False while the address limit is off: the caller need not work out the address. */
  get limitsAddress(): boolean {
    return this.address_ !== undefined;
  }

  /** One request from `address`. */
  address(address: string): Verdict | Promise<Verdict> {
    return this.address_ ? this.consume(this.address_, address, 'address') : undefined;
  }

  private consume(limiter: RateLimiterAbstract, key: string, kind: Kind): Promise<Verdict> {
    return limiter.consume(key).then(
      () => undefined,
      (res: unknown) => {
        if (res instanceof RateLimiterRes) {
          if (kind === 'user') this.stats.userRejected++;
          else this.stats.addressRejected++;
          return Math.max(1, Math.ceil(res.msBeforeNext / 1_000));
        }
        this.stats.errors++;
        return undefined;
      },
    );
  }

  private build(): void {
    const perSec = (points: number): ClientWindow => ({ points, durationSec: 1 });
    this.user_ = this.limiter('user', this.windows.user ?? perSec(this.limits_.userPerSec));
    this.address_ = this.limiter('address', this.windows.address ?? perSec(this.limits_.addressPerSec));
  }

  private limiter(kind: Kind, w: ClientWindow): RateLimiterAbstract | undefined {
    const { points, durationSec: duration } = w;
    if (points === 0) return undefined;
    const keyPrefix = `${this.cfg.keyPrefix ?? 'coupon-gateway'}:${kind}`;
    const memory = new RateLimiterMemory({ keyPrefix, points, duration });
    if (!this.cfg.redis || (kind === 'user' && this.cfg.sharedUsers === false)) return memory;
    const shared = new RateLimiterRedis({
      storeClient: this.cfg.redis,
      keyPrefix,
      points,
      duration,
      // Not connected: the memory limiter at once, rather than ioredis's offline queue.
      rejectIfRedisNotReady: true,
      insuranceLimiter: memory,
      inMemoryBlockOnConsumed: points + 1,
    });
    return new RLWrapperTimeouts({
      limiter: shared,
      insuranceLimiter: memory,
      timeoutMs: this.cfg.redisTimeoutMs ?? REDIS_TIMEOUT_MS,
    });
  }
}
