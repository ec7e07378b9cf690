import { RUNTIME_SETTINGS_KEY } from '@coupon/contracts';
import { gatewayEnv, type RunningGateway, startGateway } from '@coupon/gateway';
import { issuerEnv, type RunningIssuer, startIssuer } from '@coupon/issuer';
import { createLogger, createRedis } from '@coupon/kit';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { sleep } from '../support/index.js';
import { ADMIN_TOKEN, Admin, baseEnv, infra, issue, userIds } from './harness.js';

// The operator's controls on two gateways, each with its own issuer (the replicated topology in one
// process): a change made through one is followed by every issuer at once (the gate's meta) and by
// every gateway within a second (the run-time settings record).

const EDGE_TTL_MS = 400;
const log = createLogger('gateway', 'silent');
const redis = createRedis({ url: infra().REDIS_URL, failFast: false }, createLogger('test', 'silent'));
let issuers: RunningIssuer[] = [];
let gateways: RunningGateway[] = [];
let admin: Admin;

async function metric(gw: RunningGateway, name: string): Promise<number> {
  const text = await (await fetch(`${gw.metricsUrl}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return Number(line?.split(' ')[1] ?? Number.NaN);
}

async function send(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${gateways[0]?.url}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as { error?: { code: string; requestId: string } } };
}
const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };

beforeAll(async () => {
  await redis.del(RUNTIME_SETTINGS_KEY);
  const env = () => issuerEnv.parse(baseEnv());
  issuers = [await startIssuer(env(), log), await startIssuer(env(), log)];
  gateways = await Promise.all(
    issuers.map((i) =>
      startGateway(
        gatewayEnv.parse(
          baseEnv({ ISSUER_URL: `http://127.0.0.1:${i.port}`, EDGE_SOLD_OUT_TTL_MS: String(EDGE_TTL_MS) }),
        ),
        log,
      ),
    ),
  );
  admin = new Admin(gateways[0]?.url ?? '');
}, 60_000);

afterAll(async () => {
  await redis.del(RUNTIME_SETTINGS_KEY);
  for (const g of gateways) await g.stop();
  for (const i of issuers) await i.stop();
  redis.disconnect();
});

const urls = () => gateways.map((g) => g.url);

describe('pause and resume: a kill switch on every issuer at once', () => {
  it('happy: paused, both gateways (two issuers) answer 409 COUPON_PAUSED at once; resumed, they admit', async () => {
    const coupon = await admin.createCoupon(100);
    const change = await admin.pause(coupon.id);
    expect([change.previous.paused, change.current.paused]).toEqual([false, true]);
    const [a, b, c, d] = userIds(4) as [number, number, number, number];
    const paused = await Promise.all(urls().map((u, i) => issue(u, [a, b][i] as number, coupon.id)));
    for (const p of paused) {
      expect(p.status).toBe(409);
      expect(p.body.error?.code).toBe('COUPON_PAUSED');
      expect(p.headers.get('x-outcome')).toBe('COUPON_PAUSED');
    }
    expect((await admin.stats(coupon.id)).admitted).toBe(0);
    expect((await admin.resume(coupon.id)).current.paused).toBe(false);
    const open = await Promise.all(urls().map((u, i) => issue(u, [c, d][i] as number, coupon.id)));
    expect(open.map((o) => o.status)).toEqual([202, 202]);
  });

  it('happy: a rebuilt gate keeps the flag (it is in MySQL)', async () => {
    const coupon = await admin.createCoupon(10);
    await admin.pause(coupon.id);
    const [meta, stock, users] = [':meta', ':stock', ':users'].map((k) => `{coupon:${coupon.id}}${k}`);
    await redis.del(meta as string, stock as string, users as string); // the gate is lost
    const [u] = userIds(1) as [number];
    // The issuer rebuilds the lost gate in the background; meanwhile 503. Then the flag holds again.
    await expect
      .poll(async () => (await issue(urls()[0] as string, u, coupon.id)).body.error?.code, {
        timeout: 45_000,
      })
      .toBe('COUPON_PAUSED');
    expect(await redis.hget(meta as string, 'paused')).toBe('1');
  }, 60_000);
});

describe('moving the window', () => {
  it('happy: a window moved to the future closes the coupon, moved back it opens, on both gateways', async () => {
    const coupon = await admin.createCoupon(10);
    const later = new Date(Date.now() + 3_600_000).toISOString();
    const moved = await admin.moveWindow(coupon.id, { opensAt: later });
    expect(moved.current.opensAt).toBe(later);
    expect(moved.previous.opensAt).toBe(coupon.opensAt);
    const [a, b, c] = userIds(3) as [number, number, number];
    const closed = await Promise.all(urls().map((u, i) => issue(u, [a, b][i] as number, coupon.id)));
    expect(closed.map((r) => r.body.error?.code)).toEqual(['COUPON_NOT_OPEN', 'COUPON_NOT_OPEN']);
    await admin.moveWindow(coupon.id, { opensAt: new Date(Date.now() - 1_000).toISOString() });
    expect((await issue(urls()[1] as string, c, coupon.id)).status).toBe(202);
  });

  it('error: a bound that would close the window before it opens is 400 with the one error body', async () => {
    const coupon = await admin.createCoupon(10);
    const res = await send(
      'PATCH',
      `/admin/coupons/${coupon.id}/window`,
      { closesAt: new Date(Date.parse(coupon.opensAt) - 1_000).toISOString() },
      auth,
    );
    expect(res.status).toBe(400);
    expect(res.body.error?.code).toBe('INVALID_REQUEST');
    expect(res.body.error?.requestId).toBeTruthy();
    const unknown = await send('POST', '/admin/coupons/999999999/pause', undefined, auth);
    expect([unknown.status, unknown.body.error?.code]).toEqual([404, 'COUPON_NOT_FOUND']);
  });

  it('security: no token is 401, a wrong one 403, and nothing changes', async () => {
    const coupon = await admin.createCoupon(10);
    expect((await send('POST', `/admin/coupons/${coupon.id}/pause`)).status).toBe(401);
    const wrong = await send('POST', `/admin/coupons/${coupon.id}/pause`, undefined, {
      authorization: 'Bearer nope',
    });
    expect(wrong.status).toBe(403);
    expect((await send('PATCH', '/admin/settings', { rate: { perSecond: 1, burst: 1 } })).status).toBe(401);
    const [u] = userIds(1) as [number];
    expect((await issue(urls()[0] as string, u, coupon.id)).status).toBe(202);
  });
});

describe('the change log and its metric', () => {
  it('happy: one log line with the actor and the old and new values, and admin_changes_total{action}', async () => {
    const coupon = await admin.createCoupon(10);
    const gw = gateways[0] as RunningGateway;
    const before = await metric(gw, 'admin_changes_total{action="pause"}');
    const info = vi.spyOn(log, 'info');
    try {
      const res = await send('POST', `/admin/coupons/${coupon.id}/pause`, undefined, {
        ...auth,
        'x-admin-actor': 'alice@example.com',
      });
      expect(res.status).toBe(200);
      const line = info.mock.calls.find((c) => c[1] === 'admin change');
      expect(line?.[0]).toMatchObject({
        admin: {
          actor: 'alice@example.com',
          action: 'pause',
          couponId: coupon.id,
          previous: { paused: false },
          current: { paused: true },
        },
      });
      await admin.resume(coupon.id); // no actor header: the token's name
      const resumed = info.mock.calls.filter((c) => c[1] === 'admin change').at(-1);
      expect(resumed?.[0]).toMatchObject({ admin: { actor: 'ADMIN_TOKEN', action: 'resume' } });
    } finally {
      info.mockRestore();
    }
    expect(await metric(gw, 'admin_changes_total{action="pause"}')).toBe(before + 1);
  });
});

describe('run-time limits', () => {
  it('happy: a new global rate is followed by both gateways within 1 s, without restart, and undone', async () => {
    const coupon = await admin.createCoupon(1_000);
    const other = new Admin(gateways[1]?.url ?? '');
    const t0 = Date.now();
    const change = await admin.changeSettings({
      rate: { perSecond: 2, burst: 2 },
      perUser: { points: 5, durationSec: 1 },
      perAddress: { points: 50, durationSec: 1 },
    });
    expect(change.previous).toEqual({});
    expect(change.current.rate).toEqual({ perSecond: 2, burst: 2 });
    await expect
      .poll(async () => (await other.settings()).effective.rate.perSecond, { timeout: 1_000, interval: 20 })
      .toBe(2);
    expect(Date.now() - t0).toBeLessThan(1_000);
    expect((await other.settings()).effective.perUser).toEqual({ points: 5, durationSec: 1 });
    // The second gateway's bucket follows: of 20 requests at once, about its burst pass.
    const answers = await Promise.all(userIds(20).map((u) => issue(urls()[1] as string, u, coupon.id)));
    const limited = answers.filter((a) => a.body.error?.code === 'RATE_LIMITED').length;
    expect(limited).toBeGreaterThanOrEqual(15);
    expect(answers.find((a) => a.status === 429)?.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);

    await admin.changeSettings({ rate: null, perUser: null, perAddress: null });
    await expect
      .poll(async () => (await other.settings()).effective.rate.perSecond, { timeout: 1_000, interval: 20 })
      .toBe(20_000);
    await sleep(300); // a refill of the restored bucket
    const [u] = userIds(1) as [number];
    expect((await issue(urls()[1] as string, u, coupon.id)).status).toBe(202);
  });
});

describe('sold-out at the edge', () => {
  it('happy: after the issuer says SOLD_OUT the gateway answers it itself, until the TTL ends', async () => {
    const coupon = await admin.createCoupon(1);
    const gw = gateways[0] as RunningGateway;
    const url = gw.url;
    const [a, b, c, d] = userIds(4) as [number, number, number, number];
    expect((await issue(url, a, coupon.id)).status).toBe(202);
    const edge0 = await metric(gw, 'edge_sold_out_answers_total');
    expect((await issue(url, b, coupon.id)).body.error?.code).toBe('SOLD_OUT'); // from the issuer
    expect((await issue(url, c, coupon.id)).body.error?.code).toBe('SOLD_OUT'); // from the edge
    // The holder too hears SOLD_OUT from the edge (docs/outcomes.md); the status endpoint stays exact.
    expect((await issue(url, a, coupon.id)).body.error?.code).toBe('SOLD_OUT');
    const state = await (await fetch(`${url}/coupons/${a}/issues/${coupon.id}`)).json();
    expect(state).toMatchObject({ state: expect.stringMatching(/PENDING|ISSUED/) });
    expect(await metric(gw, 'edge_sold_out_answers_total')).toBe(edge0 + 2);
    await sleep(EDGE_TTL_MS + 100);
    expect((await issue(url, d, coupon.id)).body.error?.code).toBe('SOLD_OUT');
    expect(await metric(gw, 'edge_sold_out_answers_total')).toBe(edge0 + 2); // expired: asked the issuer
  });

  it('happy: a released slot is announced and the edge stops answering at once', async () => {
    const coupon = await admin.createCoupon(1);
    const [a, b, c] = userIds(3) as [number, number, number];
    expect((await issue(urls()[0] as string, a, coupon.id)).status).toBe(202);
    for (const u of urls()) expect((await issue(u, b, coupon.id)).body.error?.code).toBe('SOLD_OUT');
    // A definite produce failure gives the slot back through the gate, which announces it.
    expect(await issuers[0]?.gate.release(coupon.id, a)).toBe(true);
    await sleep(50);
    expect((await issue(urls()[1] as string, c, coupon.id)).status).toBe(202);
  });

  it('happy: resuming a coupon drops the edge answer too, and the run-time setting turns the edge off', async () => {
    const coupon = await admin.createCoupon(1);
    const gw = gateways[0] as RunningGateway;
    const [a, b] = userIds(2) as [number, number];
    await issue(gw.url, a, coupon.id);
    await issue(gw.url, b, coupon.id); // SOLD_OUT from the issuer: now at the edge
    await admin.pause(coupon.id); // announced: the edge forgets, the issuer answers COUPON_PAUSED
    await sleep(50);
    expect((await issue(gw.url, b, coupon.id)).body.error?.code).toBe('COUPON_PAUSED');
    await admin.resume(coupon.id);

    await admin.changeSettings({ edgeSoldOutTtlMs: 0 });
    await expect.poll(async () => (await admin.settings()).effective.edgeSoldOutTtlMs).toBe(0);
    const edge0 = await metric(gw, 'edge_sold_out_answers_total');
    await issue(gw.url, b, coupon.id);
    await issue(gw.url, b, coupon.id);
    expect(await metric(gw, 'edge_sold_out_answers_total')).toBe(edge0);
    await admin.changeSettings({ edgeSoldOutTtlMs: null });
  });
});
