import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INTERNAL_TOKEN, issue, type System, startSystem, userIds } from './harness.js';

let sys: System;

beforeAll(async () => {
  // With a persister: events left unconsumed on the run's shared topic would reach the next test's
  // persister minutes old (and skew its event-to-row metric).
  sys = await startSystem();
});
afterAll(async () => {
  await sys?.stop();
});

async function batch(body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`http://127.0.0.1:${sys.issuer.port}/internal/issue-batch`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-internal-token': INTERNAL_TOKEN },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('the gateway → issuer hop in batches', () => {
  it('happy: one batch decides each item in order, duplicates and sold-out included', async () => {
    const coupon = await sys.admin.createCoupon(2);
    const [u1, u2, u3] = userIds(3) as [number, number, number];
    const req = (userId: number, n: number) => ({ couponId: coupon.id, userId, requestId: `b-${n}` });
    const res = await batch({ requests: [req(u1, 1), req(u1, 2), req(u2, 3), req(u3, 4)] });
    expect(res.status).toBe(200);
    expect((res.body.results as Array<{ outcome: string }>).map((r) => r.outcome)).toEqual([
      'ISSUED',
      'ALREADY_ISSUED',
      'ISSUED',
      'SOLD_OUT',
    ]);
    expect((await sys.admin.stats(coupon.id)).admitted).toBe(2);
  });

  it('error: an empty, oversized or malformed batch is a 400 and admits nobody', async () => {
    const coupon = await sys.admin.createCoupon(5_000);
    const item = { couponId: coupon.id, userId: 1, requestId: 'x' };
    for (const body of [
      { requests: [] },
      { requests: Array.from({ length: 1_001 }, (_, i) => ({ ...item, userId: i + 1 })) },
      { requests: [{ ...item, userId: -1 }] },
      { requests: [item, { couponId: coupon.id }] },
      {},
    ]) {
      const res = await batch(body);
      expect(res.status).toBe(400);
      expect((res.body.error as { code: string }).code).toBe('INVALID_REQUEST');
    }
    expect((await sys.admin.stats(coupon.id)).admitted).toBe(0);
  });

  it('happy: concurrent edge requests share issuer calls and each gets its own answer', async () => {
    const coupon = await sys.admin.createCoupon(150);
    const users = userIds(200);
    const answers = await Promise.all(users.map((u) => issue(sys.url, u, coupon.id)));
    const count = (s: number) => answers.filter((a) => a.status === s).length;
    expect(count(202)).toBe(150);
    expect(count(409)).toBe(50);
    const ids = new Set(answers.filter((a) => a.status === 202).map((a) => a.body.issueId));
    expect(ids.size).toBe(150);
    expect((await sys.admin.stats(coupon.id)).admitted).toBe(150);
  });
});
