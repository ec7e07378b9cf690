import type { IssueOutcome } from '@coupon/contracts';
import { createLogger } from '@coupon/kit';
import { describe, expect, it } from 'vitest';
import { createApp } from './app.js';
import type { InternalCalls, IssueCalls } from './issuer-client.js';

const unexpected = () => Promise.reject(new Error('the issue route makes no internal call'));

/** The public app with an issuer that answers `outcome` for every request. */
function app(outcome: IssueOutcome) {
  const issuer: IssueCalls & InternalCalls = {
    issue: async () => ({ outcome, eventId: '00000000-0000-4000-8000-000000000000' }),
    breaker: { opened: false },
    retryAfterSec: 1,
    get: unexpected,
    post: unexpected,
    call: unexpected,
  };
  const limiter = { take: () => true, retryAfterSec: 1 };
  return createApp({
    issuer,
    limiter,
    log: createLogger('gateway', 'silent'),
    adminToken: 'test-admin-token',
    draining: () => false,
  });
}

const post = (a: ReturnType<typeof app>, path: string, headers?: Record<string, string>) =>
  a.request(path, { method: 'POST', headers });

describe('POST /coupons/{userId}/issue-async: outcome and request id headers', () => {
  it('happy: 202 says ISSUED in x-outcome and echoes a well-formed caller request id', async () => {
    const res = await post(app('ISSUED'), '/coupons/7/issue-async?couponId=3', { 'x-request-id': 'r-1' });
    expect(res.status).toBe(202);
    expect(res.headers.get('x-outcome')).toBe('ISSUED');
    expect(res.headers.get('x-request-id')).toBe('r-1');
    expect(await res.json()).toMatchObject({ status: 'PENDING', couponId: 3, userId: 7, requestId: 'r-1' });
  });

  it('error: a 409 names its code in x-outcome and in the one error body', async () => {
    const res = await post(app('SOLD_OUT'), '/coupons/7/issue-async?couponId=3');
    const id = res.headers.get('x-request-id');
    expect([res.status, res.headers.get('x-outcome')]).toEqual([409, 'SOLD_OUT']);
    expect(await res.json()).toEqual({
      error: { code: 'SOLD_OUT', message: 'the coupon is sold out', requestId: id },
    });
  });

  it('error: malformed input is INVALID_REQUEST in both, with a fresh request id for a malformed one', async () => {
    const res = await post(app('ISSUED'), '/coupons/x/issue-async?couponId=3', { 'x-request-id': 'bad id!' });
    expect([res.status, res.headers.get('x-outcome')]).toEqual([400, 'INVALID_REQUEST']);
    expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('happy: other routes keep the request-id middleware', async () => {
    const res = await app('ISSUED').request('/nowhere', { headers: { 'x-request-id': 'r-2' } });
    expect([res.status, res.headers.get('x-request-id')]).toEqual([404, 'r-2']);
  });
});
