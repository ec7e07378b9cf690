import { EventEmitter } from 'node:events';
import { createRegistry, type Env, fail, type Registry } from '@coupon/kit';
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { createGatewayMetrics, issueResult } from './metrics.js';
import type { LimiterMode } from './rate-limit.js';

async function value(
  registry: Registry,
  name: string,
  labels: Record<string, string>,
): Promise<number | undefined> {
  const m = registry.getSingleMetric(name);
  const values = (await m?.get())?.values ?? [];
  return values.find((v) => Object.entries(labels).every(([k, x]) => String(v.labels[k as never]) === x))
    ?.value;
}

class FakeBreaker extends EventEmitter {
  state: 'closed' | 'halfOpen' | 'open' = 'closed';
  get closed() {
    return this.state === 'closed';
  }
  get halfOpen() {
    return this.state === 'halfOpen';
  }
  go(state: FakeBreaker['state'], event: 'close' | 'halfOpen' | 'open') {
    this.state = state;
    this.emit(event);
  }
}

describe('issueResult', () => {
  it('happy: 202 is issued; error codes map to their results', () => {
    expect(issueResult(202, undefined)).toBe('issued');
    expect(issueResult(409, 'SOLD_OUT')).toBe('sold_out');
    expect(issueResult(409, 'ALREADY_ISSUED')).toBe('already_issued');
    expect(issueResult(409, 'COUPON_NOT_OPEN')).toBe('not_open');
    expect(issueResult(404, 'COUPON_NOT_FOUND')).toBe('not_found');
    expect(issueResult(400, 'INVALID_REQUEST')).toBe('invalid');
    expect(issueResult(429, 'RATE_LIMITED')).toBe('rate_limited');
    expect(issueResult(503, 'UNAVAILABLE')).toBe('unavailable');
  });

  it('error: an answer with no known code is internal, never silently issued', () => {
    expect(issueResult(500, 'INTERNAL')).toBe('internal');
    expect(issueResult(200, undefined)).toBe('internal');
  });
});

describe('createGatewayMetrics', () => {
  it('happy: counts each answer of the issue route by result, and 429s as rate limiter rejections', async () => {
    const m = createGatewayMetrics(createRegistry('gateway', { defaultMetrics: false }));
    const app = new Hono<Env>();
    app.post('/issue/:code', m.issueResults);
    app.post('/issue/:code', (c) => {
      const code = c.req.param('code');
      return code === 'OK' ? c.json({}, 202) : fail(c, code as never, 'x');
    });
    for (const code of ['OK', 'OK', 'SOLD_OUT', 'INVALID_REQUEST', 'RATE_LIMITED', 'UNAVAILABLE'])
      await app.request(`/issue/${code}`, { method: 'POST' });
    const r = m.registry;
    expect(await value(r, 'coupon_issue_results_total', { outcome: 'issued' })).toBe(2);
    expect(await value(r, 'coupon_issue_results_total', { outcome: 'sold_out' })).toBe(1);
    expect(await value(r, 'coupon_issue_results_total', { outcome: 'invalid' })).toBe(1);
    expect(await value(r, 'coupon_issue_results_total', { outcome: 'unavailable' })).toBe(1);
    expect(await value(r, 'coupon_issue_results_total', { outcome: 'already_issued' })).toBe(0);
    expect(await value(r, 'rate_limiter_rejections_total', {})).toBe(1);
  });

  it('happy: breaker state is read on scrape and transitions are counted by the state entered', async () => {
    const m = createGatewayMetrics(createRegistry('gateway', { defaultMetrics: false }));
    const b = new FakeBreaker();
    m.watchBreaker('issuer', b);
    const state = () => value(m.registry, 'circuit_breaker_state', { breaker: 'issuer' });
    expect(await state()).toBe(0);
    b.go('open', 'open');
    expect(await state()).toBe(2);
    b.go('halfOpen', 'halfOpen');
    expect(await state()).toBe(1);
    b.go('open', 'open');
    b.go('halfOpen', 'halfOpen');
    b.go('closed', 'close');
    expect(await state()).toBe(0);
    const to = (x: string) =>
      value(m.registry, 'circuit_breaker_transitions_total', { breaker: 'issuer', to: x });
    expect(await to('open')).toBe(2);
    expect(await to('half_open')).toBe(2);
    expect(await to('closed')).toBe(1);
  });

  it('happy: the limiter mode and its fallback decisions are read on scrape, and the series exist from the start', async () => {
    const m = createGatewayMetrics(createRegistry('gateway', { defaultMetrics: false }));
    const decisions = (d: string) =>
      value(m.registry, 'rate_limiter_fallback_decisions_total', { decision: d });
    const switches = (to: string) => value(m.registry, 'rate_limiter_mode_switches_total', { to });
    const mode = () => value(m.registry, 'rate_limiter_mode', {});
    expect(await decisions('admitted')).toBe(0);
    expect(await switches('fallback')).toBe(0);
    const limiter = {
      mode: 'shared' as LimiterMode,
      stats: { fallbackAdmitted: 0, fallbackRejected: 0, toFallback: 0, toShared: 0 },
    };
    m.watchLimiter(limiter);
    expect(await mode()).toBe(1);
    limiter.mode = 'fallback';
    Object.assign(limiter.stats, { fallbackAdmitted: 40, fallbackRejected: 7, toFallback: 1 });
    expect(await mode()).toBe(2);
    expect(await decisions('admitted')).toBe(40);
    expect(await decisions('rejected')).toBe(7);
    Object.assign(limiter.stats, { fallbackAdmitted: 45, toShared: 1 });
    limiter.mode = 'shared';
    expect(await decisions('admitted')).toBe(45); // a counter: caught up, not added twice
    expect(await switches('fallback')).toBe(1);
    expect(await switches('shared')).toBe(1);
    expect(await mode()).toBe(1);
  });
});
