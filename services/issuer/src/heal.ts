import { setTimeout as sleep } from 'node:timers/promises';
import { GateLockedError, GatePresentError, type RebuildResult } from '@coupon/gate';
import type { Logger } from '@coupon/kit';

export interface HealHooks {
  /** One rebuild attempt ended: rebuilt (ok) or failed (it is retried). Not called when another holder had the lock. */
  onRebuild?(ok: boolean): void;
}

export interface HealerDeps {
  /** Rebuilds the coupon's gate under its lock (@coupon/gate rebuildGate with the issuer's clients). */
  rebuild(couponId: number, signal: AbortSignal): Promise<RebuildResult>;
  /**
   * Wait this long after the loss was first seen before reading the topics: the producer's horizon
   * (@coupon/kit producerHorizonMs) plus a margin, by which every send of every issuer holding an
   * admission taken before the loss has been acknowledged, failed, or cut.
   */
  settleMs: number;
  /**
   * Resolves once this issuer's own producer holds no message queued before `since`
   * (performance.now()) in a send that has not ended (BatchingProducer.drainedBefore).
   */
  drained?(since: number): Promise<void>;
  /** Whether the coupon has a gate in Redis now (asked before each attempt). */
  gatePresent?(couponId: number): Promise<boolean>;
  /** Pause between attempts while another instance holds the lock or a rebuild failed. */
  retryMs?: number;
  log: Logger;
  hooks?: HealHooks;
}

/**
 * Rebuilds lost gates in the background, one task per coupon. While a coupon's task runs, its
 * requests get a fast 503 (no database lookup per request). The task waits settleMs (the horizon)
 * and until its own producer drained what was queued before the loss, then calls rebuild until the
 * gate is back: it rebuilt it, or another holder of the lock (another issuer, `coupon-ops rewarm`)
 * did. Before each attempt it checks whether the gate came back; if so it stops.
 */
export class GateHealer {
  private readonly lost = new Map<number, Promise<void>>();
  /** Coupons whose gate answered again while their heal waited: that heal stops, a later loss starts anew. */
  private readonly cameBack = new Set<number>();
  private readonly abort = new AbortController();

  constructor(private readonly deps: HealerDeps) {}

  /** True while this coupon's lost gate is being waited for or rebuilt. */
  healing(couponId: number): boolean {
    return this.lost.has(couponId);
  }

  /** True while any coupon is being healed (the issuer then reports gates it saw, see sawGate). */
  get active(): boolean {
    return this.lost.size > 0;
  }

  /**
   * The coupon's gate decided a request (it is back: rebuilt by another issuer or an operator). Its
   * heal stops before its next attempt, since admissions were taken meanwhile whose sends it did not
   * wait for: if the gate is lost again, the next COUPON_NOT_FOUND starts a new heal with a full wait.
   */
  sawGate(couponId: number): void {
    if (this.lost.has(couponId)) this.cameBack.add(couponId);
  }

  /** The gate of a coupon that exists in the database is missing: start healing it (once). */
  gateLost(couponId: number): void {
    if (this.lost.has(couponId) || this.abort.signal.aborted) return;
    const task = this.heal(couponId, Date.now(), performance.now()).finally(() => {
      this.lost.delete(couponId);
      this.cameBack.delete(couponId);
    });
    this.lost.set(couponId, task);
  }

  /** Shutdown: abandon waits and rebuilds (the lock's compare-and-delete still runs, or its TTL ends it). */
  async stop(): Promise<void> {
    this.abort.abort();
    await Promise.allSettled(this.lost.values());
  }

  private async heal(couponId: number, since: number, seenAt: number): Promise<void> {
    const { log, settleMs, retryMs = 1_000 } = this.deps;
    const signal = this.abort.signal;
    log.warn({ couponId, settleMs }, 'gate lost: coupon exists in the database but not in Redis; rebuilding');
    try {
      await sleep(settleMs, undefined, { signal });
      await this.deps.drained?.(seenAt);
      for (let attempt = 1; ; attempt++) {
        if (await this.cameBackMeanwhile(couponId)) {
          log.info({ couponId, attempt }, 'gate came back while healing; this heal stops');
          return;
        }
        const t0 = Date.now();
        try {
          const r = await this.deps.rebuild(couponId, signal);
          this.deps.hooks?.onRebuild?.(true);
          const lostMs = Date.now() - since;
          log.info({ ...r, attempt, lostMs, rebuildMs: Date.now() - t0 }, 'gate rebuilt');
          return;
        } catch (err) {
          if (err instanceof GatePresentError) return; // another issuer or an operator rebuilt it
          if (signal.aborted) return;
          if (!(err instanceof GateLockedError)) {
            this.deps.hooks?.onRebuild?.(false);
            log.error({ err, couponId, attempt }, 'gate rebuild failed; retrying');
          }
        }
        await sleep(retryMs * Math.min(attempt, 5), undefined, { signal });
      }
    } catch (err) {
      if (!signal.aborted) log.error({ err, couponId }, 'gate healing stopped');
    }
  }

  private async cameBackMeanwhile(couponId: number): Promise<boolean> {
    if (this.cameBack.has(couponId)) return true;
    return (await this.deps.gatePresent?.(couponId).catch(() => false)) ?? false;
  }
}
