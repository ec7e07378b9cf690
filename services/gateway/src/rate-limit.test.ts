import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it, vi } from 'vitest';
import { RateLimiter, type Reservoir } from './rate-limit.js';

async function takeMany(l: RateLimiter, n: number): Promise<number> {
  const got = await Promise.all(Array.from({ length: n }, () => l.take()));
  return got.filter(Boolean).length;
}

describe('RateLimiter (bottleneck reservoir as a token bucket)', () => {
  it('happy: a burst of exactly `burst` passes, the rest is refused', async () => {
    const l = new RateLimiter({ perSecond: 1, burst: 5 });
    expect(await takeMany(l, 20)).toBe(5);
    await l.stop();
  });

  it('happy: at a high rate, tokens are spent locally without a reservoir call per request', async () => {
    const l = new RateLimiter({ perSecond: 100_000, burst: 100_000 });
    expect(await l.take()).toBe(true); // first lease
    let sync = 0;
    for (let i = 0; i < 500; i++) if (l.take() === true) sync++;
    expect(sync).toBe(500);
    await l.stop();
  });

  it('happy: setRate changes rate and burst at run time, and the bucket keeps refilling after', async () => {
    const l = new RateLimiter({ perSecond: 100_000, burst: 100_000 });
    expect(await l.take()).toBe(true);
    await l.setRate(1, 2);
    expect(l.rate).toEqual({ perSecond: 1, burst: 2 });
    expect(await takeMany(l, 20)).toBeLessThanOrEqual(3); // the lease left over, capped, plus the burst
    await l.setRate(1_000, 1_000);
    await sleep(350);
    expect(await takeMany(l, 50)).toBe(50);
    await l.stop();
  });

  it('happy: the bucket refills over time', async () => {
    const l = new RateLimiter({ perSecond: 20, burst: 2 });
    expect(await takeMany(l, 10)).toBe(2);
    await sleep(250);
    expect(await takeMany(l, 10)).toBeGreaterThanOrEqual(1);
    await l.stop();
  });
});

/** A shared reservoir under the test's control: answers, fails (Redis erring) or never answers (unreachable). */
class FakeShared implements Reservoir {
  state: 'ok' | 'fail' | 'hang' = 'ok';
  reservoir: number;
  calls = { increment: 0, current: 0 };
  constructor(
    burst: number,
    private readonly readyFails = false,
  ) {
    this.reservoir = burst;
  }
  private answer<T>(value: () => T): Promise<T> {
    if (this.state === 'fail') return Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:6380'));
    if (this.state === 'hang') return new Promise(() => undefined);
    return Promise.resolve(value());
  }
  incrementReservoir(incr: number): Promise<number> {
    this.calls.increment++;
    return this.answer(() => {
      this.reservoir += incr;
      return this.reservoir;
    });
  }
  currentReservoir(): Promise<number> {
    this.calls.current++;
    return this.answer(() => this.reservoir);
  }
  ready(): Promise<unknown> {
    return this.readyFails ? Promise.reject(new Error('MaxRetriesPerRequestError')) : Promise.resolve();
  }
  disconnects = 0;
  /** As bottleneck's does on a given Connection: nothing, not the promise its typings promise. */
  disconnect(): undefined {
    this.disconnects++;
    return undefined;
  }
  updateSettings(): Promise<void> {
    return this.answer(() => undefined);
  }
}

function fakeLog() {
  const warn = vi.fn();
  return { log: { warn }, warn };
}

describe('RateLimiter shared through Redis, with its per-instance fallback', () => {
  const fast = { sharedTimeoutMs: 50, probeIntervalMs: 20 };

  it('happy: tokens are leased from the shared reservoir, in chunks', async () => {
    const shared = new FakeShared(100_000);
    const l = new RateLimiter({ perSecond: 100_000, burst: 100_000, shared: () => shared, ...fast });
    expect(l.mode).toBe('shared');
    expect(await takeMany(l, 1_500)).toBe(1_500);
    expect(shared.reservoir).toBe(100_000 - 2_000); // two chunks of 1,000
    expect(l.stats).toEqual({ fallbackAdmitted: 0, fallbackRejected: 0, toFallback: 0, toShared: 0 });
    await l.stop();
  });

  it('error: the shared reservoir fails → requests are admitted by the fallback bucket, one warn line', async () => {
    const shared = new FakeShared(100_000);
    shared.state = 'fail';
    const { log, warn } = fakeLog();
    const l = new RateLimiter({ perSecond: 100_000, burst: 100_000, shared: () => shared, log, ...fast });
    expect(await takeMany(l, 3_000)).toBe(3_000);
    expect(l.mode).toBe('fallback');
    expect(l.stats.toFallback).toBe(1);
    expect(l.stats.fallbackAdmitted).toBe(3_000);
    expect(shared.calls.increment).toBe(1); // no further shared call on the request path
    expect(warn).toHaveBeenCalledTimes(1);
    await l.stop();
  });

  it('error: the shared reservoir never answers → the waiting request is decided within the timeout', async () => {
    const shared = new FakeShared(100);
    shared.state = 'hang';
    const l = new RateLimiter({ perSecond: 100, burst: 100, shared: () => shared, ...fast });
    const t0 = performance.now();
    expect(await l.take()).toBe(true);
    expect(performance.now() - t0).toBeLessThan(500);
    expect(l.mode).toBe('fallback');
    await l.stop();
  });

  it('error: the fallback bucket still enforces the rate: a burst past it is refused and counted', async () => {
    const shared = new FakeShared(5);
    shared.state = 'fail';
    const l = new RateLimiter({ perSecond: 1, burst: 5, shared: () => shared, ...fast });
    expect(await takeMany(l, 20)).toBe(5);
    expect(l.stats.fallbackAdmitted).toBe(5);
    expect(l.stats.fallbackRejected).toBe(15);
    await l.stop();
  });

  it('happy: back to the shared reservoir as soon as a probe gets an answer, one warn line each way', async () => {
    const shared = new FakeShared(100_000);
    shared.state = 'fail';
    const { log, warn } = fakeLog();
    const l = new RateLimiter({ perSecond: 100_000, burst: 100_000, shared: () => shared, log, ...fast });
    await takeMany(l, 10);
    expect(l.mode).toBe('fallback');
    await sleep(100); // probes keep failing
    expect(l.mode).toBe('fallback');
    shared.state = 'ok';
    await expect.poll(() => l.mode, { timeout: 2_000, interval: 5 }).toBe('shared');
    expect(l.stats).toMatchObject({ toFallback: 1, toShared: 1 });
    expect(warn).toHaveBeenCalledTimes(2);
    // The fallback's leftover lease is spent first; then tokens come from the shared reservoir again.
    const before = shared.reservoir;
    expect(await takeMany(l, 2_000)).toBe(2_000);
    expect(shared.reservoir).toBeLessThan(before);
    await l.stop();
  });

  it('error: a probe that never answers is not repeated (no pile of queued commands)', async () => {
    const shared = new FakeShared(100);
    shared.state = 'hang';
    const l = new RateLimiter({ perSecond: 100, burst: 100, shared: () => shared, ...fast });
    await l.take();
    await sleep(150);
    expect(shared.calls.current).toBe(1);
    await l.stop();
  });

  it('error: a shared limiter whose start-up failed for good is built again by the probe', async () => {
    const built: FakeShared[] = [];
    const l = new RateLimiter({
      perSecond: 100,
      burst: 100,
      shared: () => {
        const s = new FakeShared(100, built.length === 0);
        if (built.length === 0) s.state = 'fail';
        built.push(s);
        return s;
      },
      ...fast,
    });
    expect(await l.take()).toBe(true);
    await expect.poll(() => l.mode, { timeout: 2_000, interval: 5 }).toBe('shared');
    expect(built).toHaveLength(2);
    expect(built[0]?.disconnects).toBe(1);
    await l.stop();
    expect(built[1]?.disconnects).toBe(1);
  });

  it('happy: without Redis the bucket is per instance and never falls back', async () => {
    const l = new RateLimiter({ perSecond: 1, burst: 2 });
    expect(l.mode).toBe('local');
    expect(await takeMany(l, 5)).toBe(2);
    expect(l.stats.fallbackRejected).toBe(0);
    await l.stop();
  });
});
