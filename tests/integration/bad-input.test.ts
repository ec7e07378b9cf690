import net from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issue, type System, startSystem, userIds } from './harness.js';

let sys: System;
let couponId: number;

beforeAll(async () => {
  sys = await startSystem({ persister: false });
  couponId = (await sys.admin.createCoupon(1_000)).id;
});
afterAll(async () => {
  await sys?.stop();
});

const INJECTIONS = [
  "1' OR '1'='1",
  '1;DROP TABLE coupon_issue',
  '1/**/OR/**/1=1',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a log4shell-style string is the point of the test
  '${jndi:ldap://x}',
  '<script>',
  '../../etc/passwd',
  '%00',
  '1%0d%0aX: y',
];

/** Printable junk (1–30 characters) that is never a plain decimal number (which would be a valid id). */
const junk = fc
  .string({
    minLength: 1,
    maxLength: 30,
    unit: fc.integer({ min: 33, max: 125 }).map((c) => String.fromCharCode(c)),
  })
  .filter((s) => !/^[0-9]+$/.test(s));

/** The corpus's seed: printed, and FC_SEED=<n> replays a failing run. */
const SEED = Number(process.env.FC_SEED ?? Date.now() % 2 ** 31);

describe('security: a bad-input corpus against the gateway', () => {
  it('every malformed id or query is a 4xx with the error body, never a 5xx, and admits nobody', async () => {
    const ids = [
      ...INJECTIONS.map(encodeURIComponent),
      '0',
      '-5',
      '1.5',
      '1e9',
      '0x1f',
      '00012',
      '9007199254740992',
      '1'.repeat(400),
      '%EF%BC%91%EF%BC%92', // fullwidth digits
      '%D9%A3', // arabic-indic three
      ...fc.sample(junk, { numRuns: 40, seed: SEED }).map(encodeURIComponent),
    ];
    console.log(`bad-input corpus: FC_SEED=${SEED}`);
    const calls = ids.flatMap((bad) => [
      { input: `user ${bad}`, answer: issue(sys.url, bad, couponId) },
      { input: `coupon ${bad}`, answer: issue(sys.url, 7, bad) },
    ]);
    const answers = await Promise.all(
      calls.map(async ({ input, answer }) => {
        const a = await answer.catch((e: unknown) => ({ status: String(e), body: { error: undefined } }));
        return { input, status: a.status, code: a.body.error?.code };
      }),
    );
    // Every answer that is not a 4xx with an error code, by its input (FC_SEED above replays the corpus).
    const wrong = answers.filter(
      (a) => !(typeof a.status === 'number' && a.status >= 400 && a.status < 500 && a.code),
    );
    expect(wrong).toEqual([]);
    expect((await sys.admin.stats(couponId)).admitted).toBe(0);
  });

  it('missing, repeated and extra query parameters; wrong methods; unknown routes', async () => {
    const cases: Array<[string, string, number]> = [
      ['POST', '/coupons/7/issue-async', 400],
      ['POST', `/coupons/7/issue-async?couponId=${couponId}&couponId=${couponId}`, 400],
      ['POST', '/coupons/7/issue-async?couponid=1', 400],
      ['GET', `/coupons/7/issue-async?couponId=${couponId}`, 404],
      ['DELETE', `/coupons/7/issue-async?couponId=${couponId}`, 404],
      ['POST', '/coupons//issue-async?couponId=1', 404],
      ['POST', '/nope', 404],
    ];
    for (const [method, path, status] of cases) {
      const res = await fetch(`${sys.url}${path}`, { method });
      expect(res.status, `${method} ${path}`).toBe(status);
      const body = (await res.json()) as { error: { code: string; requestId: string } };
      expect(body.error.requestId).toBeTruthy();
    }
  });

  it('huge URL and headers get 431/414-class answers; a huge admin body gets 413; nothing crashes', async () => {
    const longUrl = await fetch(`${sys.url}/coupons/1/issue-async?couponId=${'9'.repeat(20_000)}`, {
      method: 'POST',
    });
    expect([400, 414, 431]).toContain(longUrl.status);
    const bigHeader = await fetch(`${sys.url}/health`, { headers: { 'x-junk': 'a'.repeat(20_000) } });
    expect(bigHeader.status).toBe(431);
    const big = await fetch(`${sys.url}/admin/coupons`, {
      method: 'POST',
      headers: { authorization: 'Bearer test-admin-token', 'content-type': 'application/json' },
      body: JSON.stringify({ quantity: 1, name: 'x'.repeat(100_000) }),
    });
    expect(big.status).toBe(413);
    // Still serving.
    const [u] = userIds(1) as [number];
    expect((await issue(sys.url, u, couponId)).status).toBe(202);
  });

  it('a slow client that never finishes its headers is cut off; others are served meanwhile', async () => {
    const { port } = new URL(sys.url);
    const sock = net.connect(Number(port), '127.0.0.1');
    await new Promise((r) => sock.once('connect', r));
    sock.write('POST /coupons/1/issue-async?couponId=1 HTTP/1.1\r\nHost: x\r\n'); // and never the rest
    const [u] = userIds(1) as [number];
    expect((await issue(sys.url, u, couponId)).status).toBe(202);
    const closed = await new Promise<string>((resolve) => {
      let data = '';
      sock.on('data', (d) => {
        data += d.toString();
      });
      sock.on('close', () => resolve(data));
    });
    expect(closed).toMatch(/^$|^HTTP\/1\.1 408/);
  }, 15_000);
});
