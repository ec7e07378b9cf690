import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type System, startSystem } from './harness.js';

let sys: System;

beforeAll(async () => {
  // The harness gives METRICS_PORT=0 (a free port) where a deployment has 9464; nothing else is set.
  sys = await startSystem({ persister: false });
});
afterAll(async () => {
  await sys?.stop();
});

describe('security: /metrics is off the public port by default', () => {
  it('happy: /metrics answers on the private listener, on loopback', async () => {
    const { metricsPort, metricsUrl } = sys.gateway;
    expect(metricsPort).toBeGreaterThan(0);
    expect(metricsPort).not.toBe(sys.gateway.port);
    expect(metricsUrl).toBe(`http://127.0.0.1:${metricsPort}`);
    const res = await fetch(`${metricsUrl}/metrics`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('coupon_issue_results_total');
  });

  it('security: the public port answers 404 NOT_FOUND for /metrics', async () => {
    const pub = await fetch(`${sys.url}/metrics`);
    expect(pub.status).toBe(404);
    expect(((await pub.json()) as { error: { code: string } }).error.code).toBe('NOT_FOUND');
  });
});
