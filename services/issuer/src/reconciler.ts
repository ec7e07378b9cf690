import { RECONCILE_ACTIVE_KEY, type TopicNames } from '@coupon/contracts';
import type { DbPool } from '@coupon/db';
import { type CouponReconcile, type ReconcileDeps, reconcileCoupon } from '@coupon/gate';
import type { Logger } from '@coupon/kit';
import type { Redis } from 'ioredis';
import type { Admin, Kafka, Producer } from 'kafkajs';

/** Republished events plus adopted rows per round, over all coupons: the rest waits for the next round. */
const MAX_REPAIRS_PER_ROUND = 10_000;
/** A round's Kafka read that makes no progress for this long fails the round (retried next round). */
const KAFKA_IDLE_MS = 15_000;

export interface ReconcileHooks {
  /** After a round: admissions without a row or refusal, and when the oldest was first seen (epoch ms). */
  onRound?(ambiguous: number, oldestSince: number | undefined): void;
  onRepaired?(action: 'republished' | 'adopted', n: number): void;
  onRoundResult?(result: 'ok' | 'skipped'): void;
}

export interface ReconcilerDeps {
  redis: Redis;
  pool: DbPool;
  kafka: Kafka;
  topics: TopicNames;
  log: Logger;
  /** RECONCILE_INTERVAL_MS: pause between rounds; 0 turns the reconciler off. */
  intervalMs: number;
  /** RECONCILE_GRACE_MS. */
  graceMs: number;
  /** RECONCILE_ACTIVE_HOURS. */
  activeHours: number;
  hooks?: ReconcileHooks;
}

/**
 * The automatic reconcile (the rule is @coupon/gate reconcileCoupon, shared with `coupon-ops
 * reconcile`). Each issuer remembers in memory the coupons it served (nothing added to the admission
 * path's Redis commands) and, once per round, adds them to a sorted set shared by every issuer
 * (score = now); the round then works every coupon served within the active hours, each under the
 * coupon's reconcile lock, so one instance at a time works a coupon. A round that cannot read
 * Redis, MySQL or Kafka stops there (logged once per outage; nothing republished) and the next
 * one starts over.
 */
export class Reconciler {
  private readonly seen = new Set<number>();
  /** Per coupon, what this instance's last pass found: the gauges sum them. */
  private readonly figures = new Map<number, { ambiguous: number; oldestSince?: number }>();
  /** Coupons whose gate has no row in MySQL, logged once each. */
  private readonly orphans = new Set<number>();
  private readonly abort = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private failing = false;

  constructor(private readonly deps: ReconcilerDeps) {}

  /** The issuer admitted (or tried to) for this coupon. In memory only. */
  served(couponId: number): void {
    this.seen.add(couponId);
  }

  start(): void {
    if (this.deps.intervalMs <= 0) return;
    this.schedule();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    clearTimeout(this.timer);
    await this.running;
  }

  /** One round: publish what this instance served, then reconcile every active coupon it can lock. */
  async round(): Promise<CouponReconcile[]> {
    const { redis, log } = this.deps;
    const kafka = new LazyKafka(this.deps.kafka);
    const reports: CouponReconcile[] = [];
    try {
      const ids = await this.activeCoupons();
      const rule: ReconcileDeps = {
        redis,
        pool: this.deps.pool,
        kafka: this.deps.kafka,
        topics: this.deps.topics,
        signal: this.abort.signal,
        admin: () => kafka.admin(),
        producer: () => kafka.producer(),
      };
      let budget = MAX_REPAIRS_PER_ROUND;
      for (const id of ids) {
        if (this.abort.signal.aborted) break;
        const r = await reconcileCoupon(rule, id, {
          repair: true,
          graceMs: this.deps.graceMs,
          maxRepairs: budget,
          quick: true,
          kafkaIdleMs: KAFKA_IDLE_MS,
        });
        reports.push(r);
        if (r.status === 'busy') continue; // another instance works it now: keep what we saw last
        if (r.status.startsWith('no coupon in MySQL')) {
          this.figures.delete(id);
          if (!this.orphans.has(id))
            log.error(
              { couponId: id, status: r.status },
              'reconcile: a gate without its coupon row; nothing republished',
            );
          this.orphans.add(id);
          continue;
        }
        if (r.status === 'no gate (run rewarm)') this.figures.delete(id);
        else this.figures.set(id, figuresOf(r));
        budget -= r.republished + r.adopted;
        if (r.republished > 0) this.deps.hooks?.onRepaired?.('republished', r.republished);
        if (r.adopted > 0) this.deps.hooks?.onRepaired?.('adopted', r.adopted);
        if (r.republished + r.adopted > 0 || r.stockDelta > 0)
          log.warn({ reconcile: summary(r) }, 'reconcile repaired drift');
      }
      for (const id of this.figures.keys()) if (!ids.includes(id)) this.figures.delete(id);
      if (this.failing) log.info('reconcile rounds resumed');
      this.failing = false;
      this.deps.hooks?.onRoundResult?.('ok');
    } catch (err) {
      if (!this.failing && !this.abort.signal.aborted)
        log.warn(
          { err },
          'reconcile round skipped: a dependency does not answer (logged once until it does)',
        );
      this.failing = true;
      this.deps.hooks?.onRoundResult?.('skipped');
    } finally {
      await kafka.close();
      this.report();
    }
    return reports;
  }

  /** Adds this instance's served coupons to the shared set, drops stale ones, returns the active ids. */
  private async activeCoupons(): Promise<number[]> {
    const now = Date.now();
    const since = now - this.deps.activeHours * 3_600_000;
    const served = [...this.seen];
    const tx = this.deps.redis.multi();
    if (served.length > 0) tx.zadd(RECONCILE_ACTIVE_KEY, ...served.flatMap((id) => [now, id]));
    tx.zremrangebyscore(RECONCILE_ACTIVE_KEY, '-inf', `(${since}`);
    tx.zrangebyscore(RECONCILE_ACTIVE_KEY, since, '+inf');
    const replies = await tx.exec();
    if (!replies) throw new Error('redis transaction aborted');
    for (const [err] of replies) if (err) throw err;
    for (const id of served) this.seen.delete(id);
    return ((replies.at(-1)?.[1] as string[]) ?? []).map(Number);
  }

  private report(): void {
    let ambiguous = 0;
    let oldest: number | undefined;
    for (const f of this.figures.values()) {
      ambiguous += f.ambiguous;
      if (f.oldestSince !== undefined) oldest = Math.min(oldest ?? f.oldestSince, f.oldestSince);
    }
    this.deps.hooks?.onRound?.(ambiguous, oldest);
  }

  private schedule(): void {
    this.timer = setTimeout(() => {
      this.running = this.round()
        .then(() => undefined)
        .finally(() => {
          this.running = undefined;
          if (!this.abort.signal.aborted) this.schedule();
        });
    }, this.deps.intervalMs);
  }
}

function figuresOf(r: CouponReconcile): { ambiguous: number; oldestSince?: number } {
  const ambiguous = r.pending + r.inFlight + r.missing;
  return { ambiguous, oldestSince: ambiguous > 0 ? Date.now() - r.oldestMs : undefined };
}

function summary(r: CouponReconcile) {
  const { samples, ...counts } = r;
  return { ...counts, missingSample: samples.missing, notAdmittedSample: samples.notAdmitted };
}

/** Kafka clients for one round, connected only if the round needs them (overdue users), then closed. */
class LazyKafka {
  private a?: Promise<Admin>;
  private p?: Promise<Producer>;

  constructor(private readonly kafka: Kafka) {}

  admin(): Promise<Admin> {
    this.a ??= connect(this.kafka.admin());
    return this.a;
  }

  producer(): Promise<Producer> {
    this.p ??= connect(
      this.kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false }),
    );
    return this.p;
  }

  async close(): Promise<void> {
    const clients = await Promise.allSettled([this.a, this.p].filter((c) => c !== undefined));
    await Promise.allSettled(
      clients.map((c) => (c.status === 'fulfilled' ? c.value.disconnect() : undefined)),
    );
  }
}

async function connect<T extends { connect(): Promise<void>; disconnect(): Promise<void> }>(
  c: T,
): Promise<T> {
  try {
    await c.connect();
    return c;
  } catch (err) {
    await c.disconnect().catch(() => undefined);
    throw err;
  }
}
