import { ADMIN_BASE, AdminCallError, AppError, adminClient } from '@coupon/contracts';
import { createLogger, createOpenAPIApp, installErrorHandler, requestId } from '@coupon/kit';
import { describe, expect, it, vi } from 'vitest';
import { registerAdmin } from './index.js';

// contracts' admin client against the gateway's admin routes in-process, the issuer a recorder: both
// ends are built from the same declarations, so what one sends the other takes.

const TOKEN = 'test-admin-token';
const log = createLogger('gateway', 'silent');
const sent: { method: string; path: string; body: unknown }[] = [];
const echo = (path: string): unknown => ({ path });
let answer = echo;
const issuer = {
  call: async <T>(method: string, path: string, body: unknown): Promise<T> => {
    sent.push({ method, path, body });
    return answer(path) as T;
  },
};

const app = createOpenAPIApp();
app.use(requestId());
installErrorHandler(app, log);
const admin = createOpenAPIApp();
registerAdmin(admin, { issuer, adminToken: TOKEN, log });
app.route(ADMIN_BASE, admin);

const statuses: number[] = [];
const client = (actor?: string) =>
  adminClient({
    url: 'http://gateway',
    token: TOKEN,
    ...(actor ? { actor } : {}),
    fetch: async (url, init) => {
      const res = await app.request(String(url), init);
      statuses.push(res.status);
      return res;
    },
  });

describe('the coupon operations: checked at the gateway, carried out by the issuer', () => {
  it('happy: each reaches the issuer at INTERNAL_BASE with its parsed input and answers its status', async () => {
    sent.length = 0;
    statuses.length = 0;
    const api = client();
    const opensAt = '2030-01-01T00:00:00.000Z';
    const page = await api.listCoupons({ limit: 10 });
    await api.createCoupon({ quantity: 5 });
    await api.getCoupon({ couponId: 7 });
    await api.couponStats({ couponId: 7 });
    await api.pauseCoupon({ couponId: 7 });
    await api.resumeCoupon({ couponId: 7 });
    await api.moveCouponWindow({ couponId: 7 }, { opensAt });
    expect(sent).toEqual([
      { method: 'GET', path: '/internal/coupons?limit=10&after=0', body: undefined },
      { method: 'POST', path: '/internal/coupons', body: { name: 'coupon', quantity: 5 } },
      { method: 'GET', path: '/internal/coupons/7', body: undefined },
      { method: 'GET', path: '/internal/coupons/7/stats', body: undefined },
      { method: 'POST', path: '/internal/coupons/7/pause', body: undefined },
      { method: 'POST', path: '/internal/coupons/7/resume', body: undefined },
      { method: 'PATCH', path: '/internal/coupons/7/window', body: { opensAt } },
    ]);
    expect(statuses).toEqual([200, 201, 200, 200, 200, 200, 200]);
    expect(page).toEqual({ path: '/internal/coupons?limit=10&after=0' }); // the issuer's answer as it is
  });

  it('happy: a change is logged with its actor, target and values; a read is not', async () => {
    const info = vi.spyOn(log, 'info');
    try {
      answer = () => ({ previous: { paused: false }, current: { paused: true } });
      await client('alice@example.com').pauseCoupon({ couponId: 7 });
      await client().couponStats({ couponId: 7 });
      await client().resumeCoupon({ couponId: 8 });
      expect(info.mock.calls.filter((c) => c[1] === 'admin change').map((c) => c[0])).toMatchObject([
        { admin: { actor: 'alice@example.com', action: 'pause', couponId: 7, current: { paused: true } } },
        { admin: { actor: 'ADMIN_TOKEN', action: 'resume', couponId: 8 } },
      ]);
    } finally {
      info.mockRestore();
      answer = echo;
    }
  });

  it("error: the issuer's refusal is the client's AdminCallError with the status and the one error body", async () => {
    answer = () => {
      throw new AppError('COUPON_NOT_FOUND', 'no coupon 9');
    };
    try {
      const err = await client()
        .getCoupon({ couponId: 9 })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AdminCallError);
      expect((err as AdminCallError).status).toBe(404);
      expect((err as AdminCallError).body).toMatchObject({ error: { code: 'COUPON_NOT_FOUND' } });
    } finally {
      answer = echo;
    }
  });

  it('security: a wrong token never reaches the issuer', async () => {
    sent.length = 0;
    const err = await adminClient({
      url: 'http://gateway',
      token: 'nope',
      fetch: async (u, i) => app.request(String(u), i),
    })
      .pauseCoupon({ couponId: 7 })
      .catch((e: unknown) => e);
    expect((err as AdminCallError).status).toBe(403);
    expect(sent).toEqual([]);
  });
});
