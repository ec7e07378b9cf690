import { gatewayEnv, startGateway } from '@coupon/gateway';
import { createLogger, createRedis } from '@coupon/kit';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sleep } from '../support/index.js';
import { type Answer, baseEnv, infra, issue, type System, startSystem, tally, userIds } from './harness.js';
import { FaultProxy } from './proxy.js';

// The gateway's token bucket shared through Redis (RATE_LIMIT_SHARED=true, bottleneck's Redis
// datastore): the issue path never answers 5xx because of it, whatever happens to Redis.

const KEYS = 'b_coupon-gateway-rate_*';
let redis: Redis;
beforeAll(() => {
  redis = createRedis({ url: infra().REDIS_URL, failFast: false });
});
afterAll(async () => {
  await redis?.quit();
});

async function dropLimiterKeys(): Promise<number> {
  const keys = await redis.keys(KEYS);
  return keys.length > 0 ? redis.del(...keys) : 0;
}

/** The gateway's sample of `name` (from its metrics listener at `url`) whose labels include `labels` (NaN when there is none). */
async function metric(url: string, name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text
    .split('\n')
    .find(
      (l) => l.startsWith(`${name}{`) && Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)),
    );
  return Number(line?.split(' ').pop());
}
const mode = (url: string) => metric(url, 'rate_limiter_mode');
const switches = (url: string, to: string) => metric(url, 'rate_limiter_mode_switches_total', { to });
const decisions = (url: string, decision: string) =>
  metric(url, 'rate_limiter_fallback_decisions_total', { decision });

interface Timed extends Answer {
  sentAt: number;
}

/** `workers` clients each sending one request after another until `stop()`; distinct users. */
function traffic(url: string, couponId: number, workers: number) {
  const answers: Timed[] = [];
  let running = true;
  const users = userIds(50_000);
  let next = 0;
  const loops = Array.from({ length: workers }, async () => {
    while (running) {
      const sentAt = Date.now();
      const a = await issue(url, users[next++ % users.length] ?? 1, couponId);
      answers.push({ ...a, sentAt });
      if (a.status === 429) await sleep(20);
    }
  });
  return {
    answers,
    async stop() {
      running = false;
      await Promise.all(loops);
      return answers;
    },
  };
}

const fiveXx = (answers: Answer[]) => answers.filter((a) => a.status >= 500);
const decided = (a: Answer) => a.status === 202 || a.status === 409;

describe('shared rate limiter: its keys lost from Redis', () => {
  let sys: System;
  beforeAll(async () => {
    await dropLimiterKeys();
    sys = await startSystem({
      persister: false,
      // chunk = a tenth of a refill = 20 tokens: leases go to Redis often under the test's traffic.
      gatewayEnv: { RATE_LIMIT_SHARED: 'true', RATE_LIMIT_PER_SEC: '2000', RATE_LIMIT_BURST: '2000' },
    });
  });
  afterAll(async () => {
    await sys?.stop();
    await dropLimiterKeys();
  });

  it('error: keys deleted mid-traffic → no 5xx, 202/409 again within 2 s, re-created by bottleneck itself', async () => {
    const coupon = await sys.admin.createCoupon(1_000_000);
    // The issuer's first produce connects to Kafka: out of the way before the clock matters.
    for (const u of userIds(2)) expect((await issue(sys.url, u, coupon.id)).status).toBe(202);
    const load = traffic(sys.url, coupon.id, 16);
    const warm = Date.now() + 10_000;
    while (load.answers.filter(decided).length < 50 && Date.now() < warm) await sleep(20);
    const before = load.answers.filter(decided).length;
    expect(await dropLimiterKeys()).toBeGreaterThan(0);
    const droppedAt = Date.now();
    await sleep(2_000);
    const answers = await load.stop();

    expect(before, JSON.stringify(tally(answers))).toBeGreaterThanOrEqual(50);
    expect(fiveXx(answers), JSON.stringify(tally(answers))).toEqual([]);
    const after = answers.filter((a) => a.sentAt >= droppedAt);
    const firstDecided = after.find(decided);
    expect(firstDecided, JSON.stringify(tally(after))).toBeDefined();
    expect((firstDecided?.sentAt ?? Infinity) - droppedAt).toBeLessThan(2_000);
    expect(after.filter(decided).length).toBeGreaterThan(after.length / 2);
    // bottleneck re-created its settings with the configured bucket, and the limiter is shared (a
    // stall of the event loop past the lease timeout may have made it fall back for a probe's time;
    // unpatched, it stayed on the fallback for good).
    expect(await redis.hget('b_coupon-gateway-rate_settings', 'reservoirIncreaseMaximum')).toBe('2000');
    await expect.poll(() => mode(sys.gateway.metricsUrl), { timeout: 1_500, interval: 50 }).toBe(1);
  });
});

describe('shared rate limiter: Redis unreachable', () => {
  let sys: System;
  let proxy: FaultProxy;
  let proxied: string;
  beforeAll(async () => {
    await dropLimiterKeys();
    const direct = new URL(infra().REDIS_URL);
    proxy = await new FaultProxy(Number(direct.port)).start();
    const viaProxy = new URL(direct);
    viaProxy.port = String(proxy.port);
    proxied = viaProxy.toString();
    sys = await startSystem({
      persister: false,
      gatewayEnv: {
        REDIS_URL: proxied, // the gateway's Redis is the limiter's alone; the issuer's is direct
        RATE_LIMIT_SHARED: 'true',
        RATE_LIMIT_PER_SEC: '10',
        RATE_LIMIT_BURST: '30',
      },
    });
  });
  afterAll(async () => {
    await sys?.stop();
    await proxy?.stop();
    await dropLimiterKeys();
  });

  it('error: Redis cut → no 5xx, the per-instance bucket decides (429s enforced, counted); shared again once Redis is back', async () => {
    const coupon = await sys.admin.createCoupon(1_000_000);
    const users = userIds(400);
    const warm = await Promise.all(users.slice(0, 5).map((u) => issue(sys.url, u, coupon.id)));
    expect(tally(warm)).toEqual({ '202': 5 });
    expect(await mode(sys.gateway.metricsUrl)).toBe(1);

    await proxy.refuse();
    // 150 at once against a bucket of 30 (+1 per 100 ms): the fallback bucket admits about its burst,
    // a little more if a busy machine spreads the 150 over a second or two.
    const cut = await Promise.all(users.slice(5, 155).map((u) => issue(sys.url, u, coupon.id)));
    const t = tally(cut);
    expect(fiveXx(cut), JSON.stringify(t)).toEqual([]);
    expect(t['429 RATE_LIMITED'] ?? 0, JSON.stringify(t)).toBeGreaterThanOrEqual(70);
    expect(t['202'] ?? 0, JSON.stringify(t)).toBeGreaterThanOrEqual(10);
    expect(t['202'] ?? 0, JSON.stringify(t)).toBeLessThanOrEqual(80);
    expect(cut.find((a) => a.status === 429)?.headers.get('retry-after')).toBe('1');
    expect(await mode(sys.gateway.metricsUrl)).toBe(2);
    expect(await switches(sys.gateway.metricsUrl, 'fallback')).toBe(1);
    expect(await decisions(sys.gateway.metricsUrl, 'admitted')).toBeGreaterThanOrEqual(t['202'] ?? 0);
    expect(await decisions(sys.gateway.metricsUrl, 'rejected')).toBe(t['429 RATE_LIMITED']);

    // Still no 5xx a while into the outage.
    await sleep(300);
    const later = await Promise.all(users.slice(155, 165).map((u) => issue(sys.url, u, coupon.id)));
    expect(fiveXx(later)).toEqual([]);

    await proxy.accept();
    // ioredis reconnects with back-off (at most 2 s); the next probe then answers.
    await expect.poll(() => mode(sys.gateway.metricsUrl), { timeout: 8_000, interval: 100 }).toBe(1);
    expect(await switches(sys.gateway.metricsUrl, 'shared')).toBe(1);
    const after = await Promise.all(users.slice(165, 175).map((u) => issue(sys.url, u, coupon.id)));
    expect(tally(after)).toEqual({ '202': 10 });
    expect(await switches(sys.gateway.metricsUrl, 'fallback')).toBe(1);
  });

  it('error: a gateway started while its Redis is unreachable serves from the fallback, then shares once Redis is up', async () => {
    const coupon = await sys.admin.createCoupon(1_000);
    await proxy.refuse();
    const gw = await startGateway(
      gatewayEnv.parse(
        baseEnv({
          ISSUER_URL: `http://127.0.0.1:${sys.issuer.port}`,
          HOST: '127.0.0.1',
          REDIS_URL: proxied,
          RATE_LIMIT_SHARED: 'true',
        }),
      ),
      createLogger('gateway', 'silent'),
    );
    try {
      const during = await Promise.all(userIds(5).map((u) => issue(gw.url, u, coupon.id)));
      expect(tally(during)).toEqual({ '202': 5 });
      expect(await mode(gw.metricsUrl)).toBe(2);
      await proxy.accept();
      await expect.poll(() => mode(gw.metricsUrl), { timeout: 8_000, interval: 100 }).toBe(1);
      const after = await Promise.all(userIds(5).map((u) => issue(gw.url, u, coupon.id)));
      expect(tally(after)).toEqual({ '202': 5 });
    } finally {
      await gw.stop();
    }
  });
});
