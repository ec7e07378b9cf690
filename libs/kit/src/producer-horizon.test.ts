import { describe, expect, it } from 'vitest';
import { producerHorizonMs, producerTiming } from './producer-horizon.js';

describe('producerHorizonMs', () => {
  it('happy: every attempt at its full request timeout plus the backoffs, well past the delivery timeout', () => {
    const t = producerTiming(5_000);
    expect(t.requestTimeoutMs).toBe(2_500);
    // 7 attempts × 2.5 s; backoffs 120, 288, 691.2, then capped at maxRetryTime
    expect(producerHorizonMs(t)).toBe(Math.ceil(7 * 2_500 + 120 + 288 + 691.2 + 3 * 1_000));
    expect(producerHorizonMs(t)).toBeGreaterThan(t.deliveryTimeoutMs + 1_000); // the old heal wait
  });

  it('happy: never below the delivery timeout, grows with retries and request timeout', () => {
    const t = producerTiming(200);
    expect(producerHorizonMs({ ...t, retry: { ...t.retry, retries: 0 }, requestTimeoutMs: 50 })).toBe(200);
    expect(producerHorizonMs(producerTiming(10_000))).toBeGreaterThan(
      producerHorizonMs(producerTiming(5_000)),
    );
  });
});
