import type { Logger } from '@coupon/kit';
import Bottleneck from 'bottleneck';
import type { Redis } from 'ioredis';

/** The slice of a bottleneck limiter the bucket uses (a fake one in unit tests). */
export interface Reservoir {
  incrementReservoir(incr: number): Promise<number | null>;
  currentReservoir(): Promise<number | null>;
  ready(): Promise<unknown>;
  /** A promise, or undefined for a limiter on a given Connection (bottleneck's typings say a promise). */
  disconnect(flush?: boolean): Promise<void> | undefined;
  /** A promise in fact (bottleneck's typings say the limiter itself). */
  updateSettings(options: Bottleneck.ConstructorOptions): unknown;
}

export interface RateLimitConfig {
  perSecond: number;
  burst: number;
  /** When given, the bucket lives in Redis and every gateway with the same id shares it. */
  redis?: Redis;
  id?: string;
  /** Builds the shared reservoir instead of bottleneck on `redis` (tests). */
  shared?: () => Reservoir;
  /** A shared lease that has not answered after this long counts as a failure. */
  sharedTimeoutMs?: number;
  /** While falling back, how often to ask the shared bucket whether it answers again. */
  probeIntervalMs?: number;
  /** Gets one warn line when the limiter falls back and one when it is shared again. */
  log?: Pick<Logger, 'warn'>;
}

/**
 * Where the bucket lives: `local` per instance (not shared), `shared` in Redis, `fallback` per
 * instance because the shared one failed. In severity order: the metric's max over instances is the worst.
 */
export const LIMITER_MODES = { local: 0, shared: 1, fallback: 2 } as const;
export type LimiterMode = keyof typeof LIMITER_MODES;

/** Plain counters the metrics read on scrape, so the hot path pays nothing for them. */
export interface LimiterStats {
  /** Requests admitted with tokens of the fallback bucket. */
  fallbackAdmitted: number;
  /** Requests refused (429) because the fallback bucket was empty. */
  fallbackRejected: number;
  /** Switches from the shared bucket to the fallback one, and back. */
  toFallback: number;
  toShared: number;
}

/**
 * A lease waits this long for Redis before the fallback decides: paid once per outage by the
 * requests that wait on that lease. Not shorter: a timer due during a stall of the event loop fires
 * before the answer that arrived meanwhile is read, and would switch for nothing.
 */
const SHARED_TIMEOUT_MS = 500;
const PROBE_INTERVAL_MS = 500;

/** Disconnects a bucket without flushing; an error is of no interest to a bucket being dropped. */
async function disconnect(r: Reservoir | undefined): Promise<void> {
  try {
    await r?.disconnect(false);
  } catch {
    // dropped anyway
  }
}

class SharedTimeout extends Error {
  constructor(ms: number) {
    super(`shared rate limiter did not answer within ${ms} ms`);
  }
}

/**
 * A token bucket on bottleneck's reservoir (refilled on an interval up to `burst`), shared through
 * bottleneck's Redis datastore when several gateways run.
 *
 * Every reservoir call yields a timer tick, so the hot path does not make one per request: the
 * gateway leases tokens from the reservoir in small chunks and spends them locally with a synchronous
 * decrement. Only the request that finds the local lease empty waits for the next chunk. schedule()
 * is never used: it is far too slow for the issue path. The figures:
 * docs/decisions/0021-lease-tokens-from-the-reservoir.md.
 *
 * Shared, a lease that fails or takes longer than `sharedTimeoutMs` (Redis unreachable, or its
 * datastore erring) switches the limiter to a per-instance fallback bucket with the same rate and
 * burst, so the issue path never fails because of the limiter; a probe asks the shared bucket every
 * `probeIntervalMs` and switches back as soon as it answers. Lost keys in Redis are re-created by
 * bottleneck itself (patches/bottleneck@2.19.5.patch).
 */
export class RateLimiter {
  readonly stats: LimiterStats = { fallbackAdmitted: 0, fallbackRejected: 0, toFallback: 0, toShared: 0 };
  private mode_: LimiterMode;
  private perSecond = 0;
  private intervalMs = 0;
  private refill = 0;
  private burst = 0;
  private chunk = 0;
  private readonly sharedTimeoutMs: number;
  private readonly probeIntervalMs: number;
  private readonly newShared: (() => Reservoir) | undefined;
  private shared: Reservoir | undefined;
  private sharedBroken = false;
  private own: Reservoir | undefined;
  private local = 0;
  private emptyUntil = 0;
  private leasing: Promise<void> | undefined;
  private probeTimer: NodeJS.Timeout | undefined;
  private probing = false;
  private stopped = false;
  private connection: Bottleneck.IORedisConnection | undefined;

  constructor(private readonly cfg: RateLimitConfig) {
    this.size(cfg.perSecond, cfg.burst);
    this.sharedTimeoutMs = cfg.sharedTimeoutMs ?? SHARED_TIMEOUT_MS;
    this.probeIntervalMs = cfg.probeIntervalMs ?? PROBE_INTERVAL_MS;
    this.newShared = cfg.shared ?? (cfg.redis ? this.redisReservoir(cfg.redis) : undefined);
    this.mode_ = this.newShared ? 'shared' : 'local';
    if (this.newShared) this.shared = this.watchReady(this.newShared());
    else this.own = this.localReservoir();
  }

  get mode(): LimiterMode {
    return this.mode_;
  }

  get retryAfterSec(): number {
    return Math.max(1, Math.ceil(this.intervalMs / 1_000));
  }

  /** The bucket's rate and burst now (the environment's, or the run-time setting's). */
  get rate(): { perSecond: number; burst: number } {
    return { perSecond: this.perSecond, burst: this.burst };
  }

  private size(perSecond: number, burst: number): void {
    this.perSecond = perSecond;
    // At least 100 ms between refills, and at least one whole token per refill.
    this.intervalMs = Math.max(100, Math.ceil(1_000 / perSecond));
    this.refill = Math.max(1, Math.round((perSecond * this.intervalMs) / 1_000));
    this.burst = burst;
    // A lease is a tenth of a refill: small enough that idle gateways hoard little of a shared bucket.
    this.chunk = Math.max(1, Math.min(Math.floor(this.refill / 10), burst));
  }

  /**
   * Changes the rate and burst at run time (bottleneck's updateSettings on the buckets, shared or
   * not): every gateway applies the same run-time setting, so the shared bucket's settings in Redis
   * are written alike by each. A lower burst also caps what the bucket holds now.
   */
  async setRate(perSecond: number, burst: number): Promise<void> {
    if (perSecond === this.perSecond && burst === this.burst) return;
    this.size(perSecond, burst);
    this.local = Math.min(this.local, this.chunk);
    this.emptyUntil = 0;
    const { reservoir: _, ...refill } = this.bucketOptions();
    const shared = this.shared;
    const own = this.own;
    await Promise.all([
      (async () => {
        if (!shared) return;
        await shared.updateSettings(refill);
        const now = await shared.currentReservoir();
        if (typeof now === 'number' && now > burst) await shared.incrementReservoir(burst - now);
      })(),
      (async () => {
        if (!own) return;
        // bottleneck's local datastore stops its refill heartbeat on updateSettings (it clears the
        // timer it finds instead of restarting it): build a new bucket holding what the old one held.
        const now = await own.currentReservoir();
        this.own = this.localReservoir(Math.min(typeof now === 'number' ? now : burst, burst));
        await disconnect(own);
      })(),
    ]);
  }

  /** Takes one token: `true` at once on the hot path, a promise only when a new lease is needed. */
  take(): boolean | Promise<boolean> {
    if (this.local > 0) {
      this.local--;
      return true;
    }
    return this.takeSlow();
  }

  private async takeSlow(): Promise<boolean> {
    for (;;) {
      if (this.local > 0) {
        this.local--;
        return true;
      }
      if (Date.now() < this.emptyUntil) {
        if (this.mode_ === 'fallback') this.stats.fallbackRejected++;
        return false;
      }
      this.leasing ??= this.lease().finally(() => {
        this.leasing = undefined;
      });
      await this.leasing;
    }
  }

  /** Adds up to `chunk` tokens from the reservoir to the local lease; marks the bucket empty when short. */
  private async lease(): Promise<void> {
    if (this.mode_ === 'shared' && this.shared) {
      try {
        this.local += await this.leaseFrom(this.shared, true);
        return;
      } catch (err) {
        this.fallBack(err);
      }
    }
    this.own ??= this.localReservoir();
    const got = await this.leaseFrom(this.own, false);
    if (this.mode_ === 'fallback') this.stats.fallbackAdmitted += got;
    this.local += got;
  }

  private async leaseFrom(r: Reservoir, timed: boolean): Promise<number> {
    const call = (incr: number) =>
      timed ? this.timed(r.incrementReservoir(incr)) : r.incrementReservoir(incr);
    const left = await call(-this.chunk);
    const after = typeof left === 'number' ? left : 0;
    const got = after >= 0 ? this.chunk : Math.max(0, this.chunk + after);
    if (got < this.chunk) {
      // Give back the overdraft. Should that fail, the shared bucket is short by it until it refills.
      await call(this.chunk - got).catch(() => undefined);
      this.emptyUntil = Date.now() + Math.min(this.intervalMs, 100);
    }
    return got;
  }

  private timed<T>(p: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new SharedTimeout(this.sharedTimeoutMs)), this.sharedTimeoutMs);
    });
    return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
  }

  private fallBack(err: unknown): void {
    if (this.mode_ !== 'shared' || this.stopped) return;
    this.mode_ = 'fallback';
    this.stats.toFallback++;
    this.cfg.log?.warn(
      {
        err: err instanceof Error ? err.message : String(err),
        perSecond: this.perSecond,
        burst: this.burst,
      },
      'rate limiter: shared bucket in Redis failed, limiting per instance until it answers again',
    );
    this.probeTimer = setInterval(() => this.probe(), this.probeIntervalMs);
    this.probeTimer.unref();
  }

  /** One probe at a time: a call that never settles (queued while Redis is away) is not repeated. */
  private probe(): void {
    if (this.probing || !this.newShared) return;
    if (this.sharedBroken) {
      // Its start-up (bottleneck's init script) failed for good: build it again on the same
      // connection. The old one's unsubscribe may drop the channel both listen on; its messages only
      // wake queued jobs, and this bucket never queues any.
      void disconnect(this.shared);
      this.sharedBroken = false;
      this.shared = this.watchReady(this.newShared());
    }
    const shared = this.shared;
    if (!shared) return;
    this.probing = true;
    const call = shared.currentReservoir();
    call
      .catch(() => undefined)
      .finally(() => {
        this.probing = false;
      });
    this.timed(call).then(
      () => this.recover(),
      () => undefined,
    );
  }

  private recover(): void {
    if (this.mode_ !== 'fallback' || this.stopped) return;
    clearInterval(this.probeTimer);
    this.probeTimer = undefined;
    this.mode_ = 'shared';
    this.stats.toShared++;
    this.cfg.log?.warn('rate limiter: shared bucket in Redis answers again, limiting cluster-wide');
  }

  private watchReady(r: Reservoir): Reservoir {
    r.ready().catch(() => {
      if (this.shared === r) this.sharedBroken = true;
    });
    return r;
  }

  private bucketOptions(): Bottleneck.ConstructorOptions {
    return {
      reservoir: this.burst,
      reservoirIncreaseAmount: this.refill,
      reservoirIncreaseInterval: this.intervalMs,
      reservoirIncreaseMaximum: this.burst,
    };
  }

  private localReservoir(reservoir = this.burst): Reservoir {
    return new Bottleneck({
      ...this.bucketOptions(),
      reservoir,
      // The local datastore refills only on its heartbeat, and only once at least a whole interval
      // has passed since the last refill, counted from that heartbeat: a heartbeat equal to the
      // interval skipped refills whenever a timer fired a millisecond early or the loop lagged
      // (the figures: docs/decisions/0021-lease-tokens-from-the-reservoir.md). Beat ten times per
      // shortest interval: updateSettings cannot change the heartbeat when the rate changes at run time.
      heartbeatInterval: 10,
    });
  }

  private redisReservoir(redis: Redis): () => Reservoir {
    // One Connection object (two clients: ours, and the subscriber bottleneck duplicates from it)
    // for every bottleneck built on it. Its client is a duplicate of the caller's, not the caller's
    // own: bottleneck's README has a Connection created this way closed with connection.disconnect(),
    // which closes both its clients, and the caller's stays the caller's to close.
    const connection = new Bottleneck.IORedisConnection({ client: redis.duplicate() });
    this.connection = connection;
    return () =>
      new Bottleneck({
        ...this.bucketOptions(),
        id: this.cfg.id ?? 'coupon-gateway-rate',
        datastore: 'ioredis',
        clearDatastore: false,
        connection,
      });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.probeTimer);
    await Promise.all([disconnect(this.shared), disconnect(this.own)]);
    // A limiter built on a given Connection leaves it open (bottleneck's README): both clients are ours.
    await this.connection?.disconnect(false);
  }
}
