import type { AddressInfo } from 'node:net';
import { closeServer, listen } from '@coupon/kit';
import { Hono } from 'hono';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { EdgeSoldOut } from './edge.js';
import { edgeAnswer } from './edge-answer.js';

/** A server whose Hono app answers 418 to anything that reaches it, with the edge answer before it. */
async function server(limitsAddress = false) {
  const edge = new EdgeSoldOut(60_000);
  edge.setLive(true);
  edge.heard(5, edge.mark); // coupon 5: the issuer said SOLD_OUT
  const answered = vi.fn();
  const app = new Hono();
  app.all('*', (c) => c.text('route', 418));
  const s = await listen(app, 0, '127.0.0.1', {
    before: edgeAnswer({ edge, clients: { limitsAddress }, answered }),
  });
  const url = `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
  return { s, url, answered, edge };
}

let open: Awaited<ReturnType<typeof server>>['s'] | undefined;
afterEach(async () => {
  if (open) await closeServer(open);
  open = undefined;
});

describe('edgeAnswer: SOLD_OUT before Hono', () => {
  it('happy: a sold-out coupon is answered 409 SOLD_OUT with the route’s headers and body, and counted', async () => {
    const { s, url, answered, edge } = await server();
    open = s;
    const res = await fetch(`${url}/coupons/7/issue-async?couponId=5`, {
      method: 'POST',
      headers: { 'x-request-id': 'r-1' },
    });
    expect([res.status, res.headers.get('x-outcome'), res.headers.get('x-request-id')]).toEqual([
      409,
      'SOLD_OUT',
      'r-1',
    ]);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(await res.json()).toEqual({
      error: { code: 'SOLD_OUT', message: 'the coupon is sold out', requestId: 'r-1' },
    });
    expect([answered.mock.calls.length, edge.answered]).toEqual([1, 1]);
  });

  it('happy: anything else reaches the route: another coupon, another form of the URL, another method, a bad id', async () => {
    const { s, url, answered } = await server();
    open = s;
    const status = async (path: string, method = 'POST') => (await fetch(`${url}${path}`, { method })).status;
    expect(await status('/coupons/7/issue-async?couponId=6')).toBe(418);
    expect(await status('/coupons/7/issue-async?couponId=5&couponId=5')).toBe(418);
    expect(await status('/coupons/7/issue-async?couponId=05')).toBe(418);
    expect(await status('/coupons/0/issue-async?couponId=5')).toBe(418);
    expect(await status('/coupons/7/issue-async?couponId=5', 'GET')).toBe(418);
    expect(answered).not.toHaveBeenCalled();
  });

  it('happy: with the per-address limit on, the route decides (the address comes first)', async () => {
    const { s, url } = await server(true);
    open = s;
    expect((await fetch(`${url}/coupons/7/issue-async?couponId=5`, { method: 'POST' })).status).toBe(418);
  });

  it('happy: a malformed request id is replaced by a fresh one', async () => {
    const { s, url } = await server();
    open = s;
    const res = await fetch(`${url}/coupons/7/issue-async?couponId=5`, {
      method: 'POST',
      headers: { 'x-request-id': 'bad id!' },
    });
    expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });
});
