import { createLogger } from '@coupon/kit';
import { describe, expect, it } from 'vitest';
import { createApp, READY_PROBE_MS } from './app.js';
import type { InternalCalls, IssueCalls } from './issuer-client.js';

const unexpected = () => Promise.reject(new Error('GET /ready makes no other issuer call'));

/** GET /ready as a load balancer's health check sees it (infra/haproxy/haproxy.cfg). */
function app(issuerHealth: () => Promise<unknown>, draining = false) {
  // The issuer's JSON, typed by its caller as IssuerClient's answers are.
  const get = async <T>(): Promise<T> => (await issuerHealth()) as T;
  const issuer: IssueCalls & InternalCalls = {
    get,
    post: unexpected,
    patch: unexpected,
    issue: unexpected,
    retryAfterSec: 1,
    breaker: { opened: false },
  };
  return createApp({
    issuer,
    limiter: { take: () => true, retryAfterSec: 1 },
    log: createLogger('gateway', 'silent'),
    adminToken: 'test-admin-token',
    draining: () => draining,
  });
}

const hang = () => new Promise<never>(() => {});

describe('GET /ready', () => {
  it('happy: 200 when the issuer answers its health', async () => {
    const res = await app(async () => ({ status: 'ok' })).request('/ready');
    expect(res.status).toBe(200);
  });

  it('error: draining answers 503 "draining" at once, without asking the issuer', async () => {
    const t0 = performance.now();
    const res = await app(hang, true).request('/ready');
    expect([res.status, ((await res.json()) as { status: string }).status]).toEqual([503, 'draining']);
    expect(performance.now() - t0).toBeLessThan(100);
  });

  it('error: a hung issuer makes it 503 "not ready" within READY_PROBE_MS, not the issuer budget', async () => {
    const t0 = performance.now();
    const res = await app(hang).request('/ready');
    const ms = performance.now() - t0;
    expect([res.status, ((await res.json()) as { status: string }).status]).toEqual([503, 'not ready']);
    expect(ms).toBeGreaterThanOrEqual(READY_PROBE_MS - 50);
    expect(ms).toBeLessThan(READY_PROBE_MS + 500);
  });
});
