import { DbPool, PoolTimeoutError } from '@coupon/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sleep } from '../support/index.js';
import { infra, issue, type System, startSystem, userIds } from './harness.js';
import { FaultProxy } from './proxy.js';

describe('I5 fail fast: pool acquisition timeout', () => {
  it('error: an exhausted pool fails acquisition within its connectionTimeout with a typed error', async () => {
    const pool = new DbPool({ url: infra().DATABASE_URL, maximumPoolSize: 2, connectionTimeoutMs: 250 });
    try {
      const held = [await pool.acquire(), await pool.acquire()];
      expect(pool.stats()).toMatchObject({ active: 2, max: 2 });
      const t0 = performance.now();
      const err = await pool.acquire().catch((e: unknown) => e);
      const waited = performance.now() - t0;
      expect(err).toBeInstanceOf(PoolTimeoutError);
      expect((err as Error).message).toContain('ConnectionTimeout');
      expect(waited).toBeGreaterThanOrEqual(240);
      expect(waited).toBeLessThan(600);
      expect(pool.stats().timeouts).toBe(1);
      for (const c of held) pool.release(c);
      const again = await pool.acquire();
      pool.release(again);
      expect(pool.stats().active).toBe(0);
    } finally {
      await pool.end();
    }
  });
});

describe('I5 fail fast: the breaker opens when the issuer hangs', () => {
  let sys: System;
  let proxy: FaultProxy;

  beforeAll(async () => {
    sys = await startSystem({ persister: false });
    proxy = await new FaultProxy(sys.issuer.port).start();
    await sys.gateway.stop();
    sys = {
      ...sys,
      ...(await startSystem({
        persister: false,
        gatewayEnv: {
          ISSUER_URL: proxy.url,
          ISSUER_TIMEOUT_MS: '300',
          BREAKER_VOLUME_THRESHOLD: '5',
          BREAKER_RESET_MS: '1500',
        },
      })),
    };
  });
  afterAll(async () => {
    await sys?.stop();
    await proxy?.stop();
  });

  it('error: hung issuer → 503 after the timeout, then the open breaker answers 503 at once; half-open recovers', async () => {
    const coupon = await sys.admin.createCoupon(1_000);
    proxy.hang();
    // Requests within the linger share one issuer call (docs/decisions/0014-issuer-linger.md), and the
    // breaker counts calls (BREAKER_VOLUME_THRESHOLD = 5): one request at a time, each awaited, is one
    // call each, however busy the machine.
    const slow: Awaited<ReturnType<typeof issue>>[] = [];
    for (const u of userIds(10)) {
      slow.push(await issue(sys.url, u, coupon.id));
      if (sys.gateway.issuer.breaker.opened) break;
    }
    for (const a of slow) {
      expect(a.status).toBe(503);
      expect(a.body.error?.code).toBe('UNAVAILABLE');
      expect(a.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
    }
    expect(slow.length).toBeGreaterThanOrEqual(5);
    expect(sys.gateway.issuer.breaker.opened).toBe(true);

    const times: number[] = [];
    for (const u of userIds(50)) {
      const t0 = performance.now();
      const a = await issue(sys.url, u, coupon.id);
      times.push(performance.now() - t0);
      expect(a.status).toBe(503);
    }
    times.sort((a, b) => a - b);
    expect(times[Math.floor(times.length * 0.95)]).toBeLessThan(20); // far below the 300 ms timeout

    proxy.resume();
    proxy.cut(); // drop the hung keep-alive sockets
    await sleep(1_700);
    const [u] = userIds(1) as [number];
    const recovered = await issue(sys.url, u, coupon.id);
    expect(recovered.status).toBe(202);
    expect(sys.gateway.issuer.breaker.closed).toBe(true);
  });
});

describe('I5 fail fast: overload is shed, not queued', () => {
  it('error: past ISSUER_MAX_IN_FLIGHT calls the gateway answers 503 at once, without opening the breaker', async () => {
    const base = await startSystem({ persister: false });
    const proxy = await new FaultProxy(base.issuer.port).start();
    const sys = await startSystem({
      persister: false,
      gatewayEnv: { ISSUER_URL: proxy.url, ISSUER_MAX_IN_FLIGHT: '2', ISSUER_TIMEOUT_MS: '1500' },
    });
    try {
      const coupon = await sys.admin.createCoupon(100);
      proxy.hang();
      const users = userIds(3) as [number, number, number];
      const stuck = [issue(sys.url, users[0], coupon.id), issue(sys.url, users[1], coupon.id)];
      await sleep(100);
      const t0 = performance.now();
      const shed = await issue(sys.url, users[2], coupon.id);
      expect(performance.now() - t0).toBeLessThan(100);
      expect(shed.status).toBe(503);
      expect(shed.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
      proxy.resume();
      await Promise.all(stuck);
      expect(sys.gateway.issuer.breaker.opened).toBe(false);
    } finally {
      await sys.stop();
      await base.stop();
      await proxy.stop();
    }
  });
});
