import { describe, expect, it } from 'vitest';
import { backoffMs, retrying } from './backoff.js';

describe('backoffMs', () => {
  it('happy: equal jitter: between half the ceiling and the ceiling, which doubles up to the cap', () => {
    const low = () => 0;
    const high = () => 1;
    expect([1, 2, 3, 4].map((a) => backoffMs(a, 5_000, 100, low))).toEqual([50, 100, 200, 400]);
    expect([1, 2, 3, 4].map((a) => backoffMs(a, 5_000, 100, high))).toEqual([100, 200, 400, 800]);
    expect(backoffMs(30, 5_000, 100, low)).toBe(2_500);
    expect(backoffMs(30, 5_000, 100, high)).toBe(5_000);
    expect(backoffMs(1_000, 5_000)).toBeLessThanOrEqual(5_000); // no overflow on a long outage
  });

  it('happy: never waits less than half the ceiling (not full jitter)', () => {
    for (let attempt = 1; attempt < 30; attempt++) {
      const ceiling = Math.min(5_000, 100 * 2 ** (attempt - 1));
      const ms = backoffMs(attempt, 5_000);
      expect(ms).toBeGreaterThanOrEqual(ceiling / 2);
      expect(ms).toBeLessThanOrEqual(ceiling);
    }
  });
});

describe('retrying', () => {
  const retriable = () => Object.assign(new Error('leader moved'), { retriable: true });

  it('happy: retries what is retriable until it succeeds', async () => {
    let calls = 0;
    const out = await retrying(
      async () => {
        calls++;
        if (calls < 3) throw retriable();
        return 'ok';
      },
      { baseMs: 1, capMs: 2 },
    );
    expect(out).toBe('ok');
    expect(calls).toBe(3);
  });

  it('error: a non-retriable error fails at once; a retriable one after `attempts` tries', async () => {
    let calls = 0;
    const fatal = retrying(async () => {
      calls++;
      throw new Error('unknown topic');
    });
    await expect(fatal).rejects.toThrow('unknown topic');
    expect(calls).toBe(1);
    calls = 0;
    const tired = retrying(
      async () => {
        calls++;
        throw retriable();
      },
      { attempts: 4, baseMs: 1, capMs: 2 },
    );
    await expect(tired).rejects.toThrow('leader moved');
    expect(calls).toBe(4);
  });
});
