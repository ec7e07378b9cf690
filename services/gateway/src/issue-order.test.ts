import type { Env } from '@coupon/kit';
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { EdgeSoldOut } from './edge.js';
import { type IssueHandlerDeps, issueHandler } from './issue.js';

/** The order of the issue route's checks (issue.ts): the edge's SOLD_OUT needs no identity (decisions/0017). */
function app() {
  const asked = { issuer: 0, auth: 0 };
  const edge = new EdgeSoldOut(60_000);
  edge.setLive(true);
  const deps: IssueHandlerDeps = {
    issuer: {
      issue: async () => {
        asked.issuer++;
        return { outcome: 'SOLD_OUT' };
      },
      breaker: { opened: false },
      retryAfterSec: 1,
    },
    auth: {
      check: (header: string | undefined) => {
        asked.auth++;
        return header === 'Bearer good'
          ? undefined
          : { code: 'UNAUTHENTICATED', message: 'a bearer token is required' };
      },
    },
    limiter: { take: () => true, retryAfterSec: 1 },
    edge,
  };
  const a = new Hono<Env>().post('/coupons/:userId/issue-async', issueHandler(deps));
  const post = (couponId: number, token?: string) =>
    a.request(`/coupons/7/issue-async?couponId=${couponId}`, {
      method: 'POST',
      headers: token ? { authorization: `Bearer ${token}` } : {},
    });
  return { post, asked };
}

describe('issue route: the edge answers SOLD_OUT before the token is checked', () => {
  it('happy: once the issuer said SOLD_OUT, a request with no token hears SOLD_OUT with no signature check', async () => {
    const { post, asked } = app();
    expect((await post(3, 'good')).status).toBe(409); // the issuer says SOLD_OUT: kept at the edge
    expect(asked).toEqual({ issuer: 1, auth: 1 });
    const res = await post(3);
    expect([res.status, res.headers.get('x-outcome')]).toEqual([409, 'SOLD_OUT']);
    expect(asked).toEqual({ issuer: 1, auth: 1 });
  });

  it('error: a coupon the edge knows nothing about still needs a token (401)', async () => {
    const { post, asked } = app();
    await post(3, 'good');
    const res = await post(4);
    expect([res.status, res.headers.get('x-outcome')]).toEqual([401, 'UNAUTHENTICATED']);
    expect(asked.issuer).toBe(1);
  });
});
