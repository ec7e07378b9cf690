import { describe, expect, it } from 'vitest';
import { RateLimiter } from './rate-limit.js';

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

  it('happy: the bucket refills over time', async () => {
    const l = new RateLimiter({ perSecond: 20, burst: 2 });
    expect(await takeMany(l, 10)).toBe(2);
    await new Promise((r) => setTimeout(r, 250));
    expect(await takeMany(l, 10)).toBeGreaterThanOrEqual(1);
    await l.stop();
  });
});
