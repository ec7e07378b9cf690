import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type System, startSystem } from './harness.js';

let sys: System;

beforeAll(async () => {
  sys = await startSystem({ persister: false, gatewayEnv: { METRICS_PORT: '0' } });
});
afterAll(async () => {
  await sys?.stop();
});

describe('security: METRICS_PORT keeps /metrics off the public port', () => {
  it('happy: /metrics answers on the metrics listener, 404 on the public port', async () => {
    const port = sys.gateway.metricsPort;
    expect(port).toBeGreaterThan(0);
    const res = await fetch(`http://127.0.0.1:${port}/metrics`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('coupon_issue_results_total');
    const pub = await fetch(`${sys.url}/metrics`);
    expect(pub.status).toBe(404);
    expect(((await pub.json()) as { error: { code: string } }).error.code).toBe('NOT_FOUND');
  });
});
