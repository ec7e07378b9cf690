import { producerHorizonMs, producerTiming } from '@coupon/kit';
import { describe, expect, it } from 'vitest';
import { loadEnv } from './env.js';

describe('issuer env', () => {
  it('happy: loopback with the development internal token, or any interface with a secret', () => {
    expect(loadEnv({}).INTERNAL_TOKEN).toBe('dev-internal-token');
    expect(loadEnv({ HOST: '0.0.0.0', INTERNAL_TOKEN: 'a-secret-of-mine' }).HOST).toBe('0.0.0.0');
  });

  it('security: beyond loopback the development internal token refuses to start, naming INTERNAL_TOKEN', () => {
    expect(() => loadEnv({ HOST: '0.0.0.0' })).toThrow(
      /^invalid environment:\n {2}INTERNAL_TOKEN: is the development token 'dev-internal-token'.*HOST=0\.0\.0\.0/,
    );
  });

  it('happy: the default reconcile grace outlasts the producer horizon of the default delivery timeout', () => {
    const env = loadEnv({});
    const horizon = producerHorizonMs(producerTiming(env.PRODUCER_DELIVERY_TIMEOUT_MS));
    expect(env.RECONCILE_GRACE_MS).toBeGreaterThan(horizon);
  });
});
