import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RunningGateway } from '@coupon/gateway';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, extraGateway, type System, startSystem } from './harness.js';

/**
 * The k6 suites' token signing (loadtests/k6/lib.js: k6/crypto's HMAC, base64rawurl) under real k6,
 * against a gateway with AUTH_MODE=jwt that verifies with jose: the auth suite (loadtests/k6/auth.js,
 * a few seconds) passes with the gateway's secret, and with another one every answer is a 401, so
 * the check cannot pass with tokens that are never looked at.
 */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const K6 = `${process.env.STACK_HOME ?? `${ROOT}.local`}/bin/k6`;
const SUITE = `${ROOT}loadtests/k6/auth.js`;
const SECRET = 'k6-auth-test-secret-of-32-characters';
const USERS = 100;
const QUANTITY = 60;

interface Run {
  code: number;
  /** k6's --summary-export: counters by name (absent when never added to), setup()'s data. */
  summary: { metrics: Record<string, { count?: number }>; setup_data?: { couponId?: number } };
  output: string;
}

let sys: System;
let jwt: RunningGateway;
let dir: string;

/** `k6 run` of the auth suite against the jwt gateway, signing with `secret`. */
function runSuite(secret: string, name: string): Promise<Run> {
  const out = join(dir, `${name}.json`);
  const env = {
    ...process.env,
    BASE_URL: jwt.url,
    ADMIN_TOKEN,
    AUTH_JWT_SECRET: secret,
    USERS: String(USERS),
    QUANTITY: String(QUANTITY),
    DRAIN_TIMEOUT_S: '30',
  };
  const args = ['run', '--no-usage-report', '--quiet', '--no-color', '--summary-export', out, SUITE];
  return new Promise((resolve) => {
    execFile(K6, args, { env, timeout: 90_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      const summary = existsSync(out) ? JSON.parse(readFileSync(out, 'utf8')) : { metrics: {} };
      resolve({ code, summary, output: `${stdout}${stderr}` });
    });
  });
}

const count = (r: Run, metric: string) => r.summary.metrics[metric]?.count ?? 0;

beforeAll(async () => {
  // Built once (go install, minutes on a cold machine); scripts/test builds it before the tests.
  if (!existsSync(K6))
    await new Promise<void>((resolve, reject) =>
      execFile(`${ROOT}infra/local/stack`, ['k6'], { timeout: 900_000 }, (err) =>
        err ? reject(err) : resolve(),
      ),
    );
  dir = mkdtempSync(join(tmpdir(), 'k6-auth-'));
  sys = await startSystem();
  jwt = await extraGateway(sys, { AUTH_MODE: 'jwt', AUTH_JWT_SECRET: SECRET });
}, 900_000);
afterAll(async () => {
  await jwt?.stop();
  await sys?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('k6 signs the bearer JWT of every issue request (AUTH_MODE=jwt)', () => {
  it('happy: with the gateway secret every token verifies for its own user: exactly the quantity admitted and persisted, the rest SOLD_OUT', async () => {
    const r = await runSuite(SECRET, 'right');
    expect(r.code, r.output).toBe(0);
    expect(count(r, 'issue_accepted')).toBe(QUANTITY);
    expect(count(r, 'issue_sold_out')).toBe(USERS - QUANTITY);
    // 401 (the token refused) and 403 (its sub is another user) never happened.
    expect(count(r, 'issue_unauthenticated')).toBe(0);
    expect(count(r, 'issue_forbidden')).toBe(0);
    expect(count(r, 'issue_unexpected')).toBe(0);
    const coupon = r.summary.setup_data?.couponId;
    expect(coupon).toBeTypeOf('number');
    expect(await sys.admin.stats(coupon as number)).toMatchObject({
      admitted: QUANTITY,
      persisted: QUANTITY,
      dlt: 0,
    });
  });

  it('security: signed with another secret every request is a 401 and nobody is admitted', async () => {
    const r = await runSuite('another-secret-of-thirty-two-characters', 'wrong');
    expect(r.code, 'k6 exit: 99, thresholds failed').toBe(99);
    expect(count(r, 'issue_unauthenticated')).toBe(USERS);
    expect(count(r, 'issue_accepted')).toBe(0);
    const coupon = r.summary.setup_data?.couponId;
    expect(coupon).toBeTypeOf('number');
    expect((await sys.admin.stats(coupon as number)).admitted).toBe(0);
  });
});
