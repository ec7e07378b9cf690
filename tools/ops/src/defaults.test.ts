import { producerHorizonMs, producerTiming } from '@coupon/kit';
import { describe, expect, it } from 'vitest';
import { DEFAULT_GRACE_MS } from './defaults.js';

describe('DEFAULT_GRACE_MS', () => {
  it('outlasts the producer horizon at the issuer default timing, with room for the persister lag', () => {
    expect(DEFAULT_GRACE_MS).toBeGreaterThan(2 * producerHorizonMs(producerTiming()));
  });
});
