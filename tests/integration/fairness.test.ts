import type { RunningGateway } from '@coupon/gateway';
import { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { extraGateway, issue, type System, startSystem, userIds } from './harness.js';

/** A client of its own: its sockets leave from `address` (any of 127.0.0.0/8 works on loopback). */
const clientAt = (address: string) => new Agent({ connections: 16, localAddress: address });

const POLITE = 50;
/** Each polite client's rate, and the hog's: 20 times that, from one address with a new id each time. */
const RATE = 2;
const HOG_RATE = 20 * RATE;
const SECONDS = 2;

let sys: System;
let gw: RunningGateway;
let proxied: RunningGateway;
const polite = Array.from({ length: POLITE }, (_, i) => clientAt(`127.0.1.${i + 1}`));
const hog = clientAt('127.0.2.1');
const untrusted = clientAt('127.0.3.1');

beforeAll(async () => {
  sys = await startSystem({ persister: false });
  gw = await extraGateway(sys, {
    RATE_LIMIT_ADDRESS_PER_SEC: '10',
    RATE_LIMIT_USER_PER_SEC: '5',
  });
  // Behind a proxy on 127.0.0.1 only: X-Forwarded-For names the client when that peer sends it.
  proxied = await extraGateway(sys, { RATE_LIMIT_ADDRESS_PER_SEC: '3', TRUSTED_PROXIES: '127.0.0.1' });
}, 120_000);

afterAll(async () => {
  await gw?.stop();
  await proxied?.stop();
  await sys?.stop();
  await Promise.all([...polite, hog, untrusted].map((a) => a.close()));
});

interface Run {
  admitted: number;
  /** Median latency of the polite clients' requests, ms. */
  p50: number;
  hogAdmitted: number;
  hogThrottled: number;
  /** How long the hog's requests took, first sent to last answered (a busy loop stretches it), s. */
  hogSeconds: number;
}

/** Open loop: each client fires at its rate for SECONDS, whatever the answers take. */
async function run(couponId: number, withHog: boolean): Promise<Run> {
  const latencies: number[] = [];
  const r: Run = { admitted: 0, p50: 0, hogAdmitted: 0, hogThrottled: 0, hogSeconds: 0 };
  const inFlight: Promise<void>[] = [];
  const fire = (n: number, every: number, one: (i: number) => Promise<void>) =>
    new Promise<void>((done) => {
      let i = 0;
      const t = setInterval(() => {
        inFlight.push(one(i));
        if (++i >= n) {
          clearInterval(t);
          done();
        }
      }, every);
    });
  const users = userIds(POLITE * RATE * SECONDS);
  const hogUsers = userIds(HOG_RATE * SECONDS);
  const loops = polite.map((agent, c) =>
    // Staggered starts, so the 50 clients do not fire in lockstep.
    new Promise((ok) => setTimeout(ok, (c * 1000) / RATE / POLITE)).then(() =>
      fire(RATE * SECONDS, 1000 / RATE, async (i) => {
        const t0 = performance.now();
        const a = await issue(gw.url, users[c * RATE * SECONDS + i] as number, couponId, {
          dispatcher: agent,
        });
        latencies.push(performance.now() - t0);
        if (a.status === 202) r.admitted++;
      }),
    ),
  );
  const hogStart = performance.now();
  if (withHog)
    loops.push(
      fire(HOG_RATE * SECONDS, 1000 / HOG_RATE, async (i) => {
        const a = await issue(gw.url, hogUsers[i] as number, couponId, { dispatcher: hog });
        if (a.status === 202) r.hogAdmitted++;
        if (a.status === 429) r.hogThrottled++;
        r.hogSeconds = Math.max(r.hogSeconds, (performance.now() - hogStart) / 1000);
      }),
    );
  await Promise.all(loops);
  await Promise.all(inFlight);
  latencies.sort((a, b) => a - b);
  r.p50 = latencies[Math.floor(latencies.length / 2)] ?? 0;
  return r;
}

describe('fairness between clients', () => {
  it('happy: one client at 20× the rate of 50 others: their admissions and latency stay within 10 % of a run without it', async () => {
    const coupon = await sys.admin.createCoupon(1_000_000);
    await run(coupon.id, false); // warm-up: JIT, keep-alive sockets of every client
    // Interleaved, twice each: a busy machine's drift falls on both sides alike.
    const alone = [await run(coupon.id, false)];
    const crowded = [await run(coupon.id, true)];
    alone.push(await run(coupon.id, false));
    crowded.push(await run(coupon.id, true));
    const sum = (xs: Run[], f: (r: Run) => number) => xs.reduce((a, x) => a + f(x), 0);
    const admittedAlone = sum(alone, (r) => r.admitted);
    const admittedCrowded = sum(crowded, (r) => r.admitted);
    const p50Alone = sum(alone, (r) => r.p50) / alone.length;
    const p50Crowded = sum(crowded, (r) => r.p50) / crowded.length;
    console.log(
      `polite admitted ${admittedAlone} alone / ${admittedCrowded} beside the hog; p50 ${p50Alone.toFixed(2)} / ${p50Crowded.toFixed(2)} ms; hog ${sum(crowded, (r) => r.hogAdmitted)} admitted, ${sum(crowded, (r) => r.hogThrottled)} throttled`,
    );
    expect(admittedCrowded).toBeGreaterThanOrEqual(0.9 * admittedAlone);
    expect(p50Crowded).toBeLessThanOrEqual(1.1 * p50Alone);
    // The hog got its address's share (10 per one-second window, of its 40/s) and 429s for the rest.
    for (const r of crowded) {
      expect(r.hogAdmitted).toBeLessThanOrEqual(10 * (Math.ceil(r.hogSeconds) + 1));
      expect(r.hogAdmitted + r.hogThrottled).toBe(HOG_RATE * SECONDS);
    }
  }, 120_000);

  it('happy: a user hammering after a 409 is throttled (429 + Retry-After) before the issuer; another user from the same address is not', async () => {
    const coupon = await sys.admin.createCoupon(1);
    const [u, v] = userIds(2) as [number, number];
    const answers = [];
    for (let i = 0; i < 8; i++) answers.push(await issue(gw.url, u, coupon.id));
    expect(answers[0]?.status).toBe(202);
    expect(answers.slice(1, 5).map((a) => a.body.error?.code)).toEqual(Array(4).fill('ALREADY_ISSUED'));
    expect(answers.slice(5).map((a) => a.body.error?.code)).toEqual(Array(3).fill('RATE_LIMITED'));
    expect(Number(answers[7]?.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect((await issue(gw.url, v, coupon.id)).body.error?.code).toBe('SOLD_OUT');
  });

  it('security: X-Forwarded-For names the client only when the peer is a trusted proxy', async () => {
    const coupon = await sys.admin.createCoupon(1_000);
    const users = userIds(40);
    let next = 0;
    const send = (headers: Record<string, string>, dispatcher?: Agent) =>
      issue(proxied.url, users[next++] as number, coupon.id, { headers, dispatcher });
    const codes = async (n: number, headers: (i: number) => Record<string, string>, dispatcher?: Agent) => {
      const out: string[] = [];
      for (let i = 0; i < n; i++) out.push(String((await send(headers(i), dispatcher)).status));
      return out;
    };
    // From the trusted peer (127.0.0.1), each forwarded client has its own 3 per second.
    expect(await codes(6, (i) => ({ 'x-forwarded-for': `198.51.100.${i + 1}` }))).toEqual(
      Array(6).fill('202'),
    );
    // A client cannot hide behind entries it wrote itself: the rightmost untrusted one counts.
    expect(await codes(5, (i) => ({ 'x-forwarded-for': `10.9.9.${i}, 203.0.113.7` }))).toEqual([
      '202',
      '202',
      '202',
      '429',
      '429',
    ]);
    // From a peer that is not trusted (127.0.3.1), X-Forwarded-For is ignored: one address.
    expect(await codes(5, (i) => ({ 'x-forwarded-for': `198.51.100.${100 + i}` }), untrusted)).toEqual([
      '202',
      '202',
      '202',
      '429',
      '429',
    ]);
  });
});
