import type { Gate } from '@coupon/gate';

/** Why a slot went back: its admission was never produced. */
export type ReleaseReason = 'replica_unconfirmed' | 'not_produced';

export interface ReleaseHooks {
  /** A release ran (`released`: the user was admitted and the slot went back; false: nothing to do). */
  onReleased?(reason: ReleaseReason, released: boolean): void;
  /** A release was given up: the queue was full, or it may have run (timeout) and must not run twice. */
  onAbandoned?(why: 'full' | 'unknown' | 'stale'): void;
  /** The number of releases waiting for Redis changed. */
  onQueued?(pending: number): void;
}

/**
 * ioredis refused the command before writing it (no connection, offline queue off): it certainly did
 * not run. Any other failure (a timeout, a connection lost with the command written) may have run.
 */
function notSent(err: unknown): boolean {
  const m = (err as { message?: unknown } | undefined)?.message;
  return typeof m === 'string' && /Stream isn't writeable|enableOfflineQueue/i.test(m);
}

type Pending = { couponId: number; userId: number; reason: ReleaseReason; at: number };

/**
 * Gives back slots the issuer knows were never produced (the WAIT saw too few replicas, or the produce
 * failed definitely), so the user's retry is admitted instead of told ALREADY_ISSUED. A release that
 * Redis refused unsent waits in a small bounded queue and is retried until Redis answers. One that
 * may have run (a timeout) is not retried: run twice, after the user was admitted again and produced,
 * it would take a produced admission's slot back (over-issue). Those, and releases beyond the queue's
 * bound or older than maxAgeMs (reconcile may by then have republished the user: a release after
 * that would over-issue), stay taken for reconcile, as every ambiguous admission does.
 */
export class SlotReleaser {
  private readonly queue: Pending[] = [];
  private timer: NodeJS.Timeout | undefined;
  private draining = false;

  constructor(
    private readonly gate: Pick<Gate, 'release'>,
    private readonly hooks: ReleaseHooks = {},
    private readonly opts: { maxQueued: number; retryMs: number; maxAgeMs: number },
  ) {}

  get pending(): number {
    return this.queue.length;
  }

  /** Releases now; on a refusal unsent, queues it. True when the slot went back now. */
  async release(couponId: number, userId: number, reason: ReleaseReason): Promise<boolean> {
    try {
      const released = await this.gate.release(couponId, userId);
      this.hooks.onReleased?.(reason, released);
      return released;
    } catch (err) {
      if (!notSent(err)) this.hooks.onAbandoned?.('unknown');
      else if (this.queue.length >= this.opts.maxQueued) this.hooks.onAbandoned?.('full');
      else {
        this.queue.push({ couponId, userId, reason, at: Date.now() });
        this.hooks.onQueued?.(this.queue.length);
        this.timer ??= setInterval(() => void this.drain(), this.opts.retryMs).unref();
      }
      return false;
    }
  }

  /** Shutdown: one last attempt at what is queued, then stop retrying. */
  async stop(): Promise<void> {
    await this.drain();
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private async drain(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    try {
      while (this.queue.length > 0) {
        const p = this.queue[0] as Pending;
        if (Date.now() - p.at > this.opts.maxAgeMs) {
          this.hooks.onAbandoned?.('stale');
          this.queue.shift();
          this.hooks.onQueued?.(this.queue.length);
          continue;
        }
        try {
          const released = await this.gate.release(p.couponId, p.userId);
          this.hooks.onReleased?.(p.reason, released);
        } catch (err) {
          if (notSent(err)) return; // Redis still away: next tick
          this.hooks.onAbandoned?.('unknown');
        }
        this.queue.shift();
        this.hooks.onQueued?.(this.queue.length);
      }
      if (this.timer) clearInterval(this.timer);
      this.timer = undefined;
    } finally {
      this.draining = false;
    }
  }
}
