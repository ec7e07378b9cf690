import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, issue, type System, startSystem, userIds } from './harness.js';

let sys: System;

beforeAll(async () => {
  sys = await startSystem();
});
afterAll(async () => {
  await sys?.stop();
});

function expectError(
  a: { status: number; body: { error?: { code: string; requestId: string } } },
  status: number,
  code: string,
) {
  expect(a.status).toBe(status);
  expect(a.body.error?.code).toBe(code);
  expect(a.body.error?.requestId).toMatch(/.+/);
}

describe('outcome table of docs/outcomes.md', () => {
  it('happy: admitted → 202 with an issue id and the request id', async () => {
    const coupon = await sys.admin.createCoupon(1);
    const [u] = userIds(1) as [number];
    const a = await issue(sys.url, u, coupon.id);
    expect(a.status).toBe(202);
    expect(a.body).toMatchObject({ status: 'PENDING', issueId: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    expect(a.headers.get('x-request-id')).toBeTruthy();
  });

  it('error: the same user again → 409 ALREADY_ISSUED; stock gone → 409 SOLD_OUT', async () => {
    const coupon = await sys.admin.createCoupon(1);
    const [u1, u2] = userIds(2) as [number, number];
    expect((await issue(sys.url, u1, coupon.id)).status).toBe(202);
    expectError(await issue(sys.url, u1, coupon.id), 409, 'ALREADY_ISSUED');
    expectError(await issue(sys.url, u2, coupon.id), 409, 'SOLD_OUT');
  });

  it('error: unknown coupon → 404 COUPON_NOT_FOUND', async () => {
    expectError(await issue(sys.url, 1, 987_654_321_987), 404, 'COUPON_NOT_FOUND');
  });

  it('error: outside the window → 409 COUPON_NOT_OPEN (before opening and after closing)', async () => {
    const hour = 3_600_000;
    const later = await sys.admin.createCoupon(5, {
      opensAt: new Date(Date.now() + hour).toISOString(),
      closesAt: new Date(Date.now() + 2 * hour).toISOString(),
    });
    const past = await sys.admin.createCoupon(5, {
      opensAt: new Date(Date.now() - 2 * hour).toISOString(),
      closesAt: new Date(Date.now() - hour).toISOString(),
    });
    expectError(await issue(sys.url, 1, later.id), 409, 'COUPON_NOT_OPEN');
    expectError(await issue(sys.url, 1, past.id), 409, 'COUPON_NOT_OPEN');
    expect((await sys.admin.stats(later.id)).admitted).toBe(0);
  });

  it('error: over the rate limit → 429 RATE_LIMITED with Retry-After, and nothing admitted', async () => {
    const limited = await startSystem({
      persister: false,
      gatewayEnv: { RATE_LIMIT_PER_SEC: '1', RATE_LIMIT_BURST: '5' },
    });
    try {
      const coupon = await limited.admin.createCoupon(100);
      const answers = await Promise.all(userIds(20).map((u) => issue(limited.url, u, coupon.id)));
      const limitedAnswers = answers.filter((a) => a.status === 429);
      expect(answers.filter((a) => a.status === 202)).toHaveLength(5);
      expect(limitedAnswers).toHaveLength(15);
      for (const a of limitedAnswers) {
        expectError(a, 429, 'RATE_LIMITED');
        expect(Number(a.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      }
      expect((await limited.admin.stats(coupon.id)).admitted).toBe(5);
    } finally {
      await limited.stop();
    }
  });

  it('security: admin endpoints reject a missing (401) or wrong (403) token', async () => {
    const none = await fetch(`${sys.url}/admin/coupons`, { method: 'POST', body: '{}' });
    expect(none.status).toBe(401);
    const wrong = await fetch(`${sys.url}/admin/coupons`, {
      method: 'POST',
      body: '{}',
      headers: { authorization: 'Bearer nope-nope' },
    });
    expect(wrong.status).toBe(403);
    const ok = await fetch(`${sys.url}/admin/coupons`, {
      method: 'POST',
      body: JSON.stringify({ quantity: -1 }),
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
    });
    expect(ok.status).toBe(400);
  });

  it('security: the issuer rejects calls without the internal token', async () => {
    for (const path of ['/internal/issue', '/internal/issue-batch']) {
      const res = await fetch(`http://127.0.0.1:${sys.issuer.port}${path}`, { method: 'POST', body: '{}' });
      expect(res.status, path).toBe(401);
    }
  });
});
