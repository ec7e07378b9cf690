import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { RunningGateway } from '@coupon/gateway';
import { SignJWT } from 'jose';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { extraGateway, type System, startSystem, userIds } from './harness.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ARTIFACTS = `${ROOT}.local/test-artifacts`;
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Debian's chromium, installed once with apt-get when missing (as scripts/test does). */
function ensureChromium(): void {
  if (existsSync(CHROMIUM)) return;
  execFileSync(`${ROOT}infra/local/stack`, ['chromium'], { stdio: ['ignore', 'inherit', 'inherit'] });
}

const JWT_SECRET = 'docs-page-test-secret-of-32-characters';

let sys: System;
/** The same issuer behind a gateway with AUTH_MODE=jwt: "Try it out" needs a token there. */
let jwt: RunningGateway;
let browser: Browser;
let page: Page;
const requested: string[] = [];
const consoleErrors: string[] = [];

beforeAll(async () => {
  ensureChromium();
  sys = await startSystem({ persister: false });
  jwt = await extraGateway(sys, { AUTH_MODE: 'jwt', AUTH_JWT_SECRET: JWT_SECRET });
  browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    // Root in CI containers: Chromium's sandbox needs a user namespace it may not get.
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
  page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 900 });
  page.on('request', (r) => requested.push(r.url()));
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text());
  });
}, 180_000);
afterAll(async () => {
  await browser?.close();
  await jwt?.stop();
  await sys?.stop();
});

describe('GET /docs: the API reference page in headless Chromium', () => {
  it('happy: loads from the gateway alone, shows the issue endpoint, and its "try it" call gets a real 202', async () => {
    const coupon = await sys.admin.createCoupon(1);
    const [user] = userIds(1) as [number];
    await page.goto(`${sys.url}/docs`, { waitUntil: 'networkidle0' });

    const op = '#operations-coupons-issueCoupon';
    await page.waitForSelector(op, { timeout: 30_000 });
    expect(await page.$eval(`${op} .opblock-summary-path`, (e) => e.textContent)).toContain(
      '/coupons/{userId}/issue-async',
    );

    // The operator's controls are on the page too, under the admin tag, marked with the bearer scheme.
    for (const id of ['listCoupons', 'pauseCoupon', 'resumeCoupon', 'moveCouponWindow', 'changeSettings'])
      expect(await page.$(`#operations-admin-${id}`), id).not.toBeNull();
    expect(await page.$('#operations-admin-pauseCoupon .authorization__btn')).not.toBeNull();

    await page.click(`${op} .opblock-summary-control`);
    await page.waitForSelector(`${op} .try-out__btn`);
    await page.click(`${op} .try-out__btn`);
    // fill() replaces the example the page prefills (42 and 1) with this test's ids.
    await page.locator(`${op} tr[data-param-name="userId"] input`).fill(String(user));
    await page.locator(`${op} tr[data-param-name="couponId"] input`).fill(String(coupon.id));
    await page.click(`${op} .execute`);
    const status = `${op} .live-responses-table .response .response-col_status`;
    await page.waitForSelector(status, { timeout: 30_000 });
    const answered = (await page.$eval(status, (e) => e.textContent ?? '')).trim();
    const body = await page.$eval(
      `${op} .live-responses-table .response-col_description pre`,
      (e) => e.textContent,
    );

    mkdirSync(ARTIFACTS, { recursive: true });
    const shot = `${ARTIFACTS}/docs-page.png`;
    await page.$eval(op, (e) => e.scrollIntoView());
    await page.screenshot({ path: shot, fullPage: true });
    console.log(`screenshot of the reference page: ${shot}`);

    // A real answer from the running system: the user was admitted.
    expect(answered).toBe('202');
    expect(JSON.parse(body ?? '{}')).toMatchObject({ status: 'PENDING', couponId: coupon.id, userId: user });
    expect((await sys.admin.stats(coupon.id)).admitted).toBe(1);

    // Nothing came from a CDN: every request went to the gateway itself (or was inline data).
    const origin = new URL(sys.url).origin;
    expect(requested.filter((u) => !u.startsWith(`${origin}/`) && !u.startsWith('data:'))).toEqual([]);
    expect(requested).toContain(`${origin}/docs/assets/swagger-ui-bundle.js`);
    expect(requested).toContain(`${origin}/openapi.json`);
    expect(consoleErrors).toEqual([]);
  }, 120_000);

  it('happy: with AUTH_MODE=jwt, "Authorize" takes a JWT and "Try it out" sends it: a real 202', async () => {
    const coupon = await sys.admin.createCoupon(1);
    const [user] = userIds(1) as [number];
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(String(user))
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(JWT_SECRET));
    const tab = await browser.newPage();
    try {
      await tab.goto(`${jwt.url}/docs`, { waitUntil: 'networkidle0' });
      await tab.waitForSelector('.btn.authorize', { timeout: 30_000 });
      await tab.click('.btn.authorize');
      // The dialog has one form per scheme (adminBearer, userBearer): the user's takes the JWT.
      await tab.waitForSelector('.auth-container');
      const forms = await tab.$$('.auth-container');
      let filled = false;
      for (const form of forms) {
        if (!(await form.evaluate((e) => e.textContent ?? '')).includes('userBearer')) continue;
        await (await form.$('input'))?.type(token);
        await (await form.$('button.authorize'))?.click();
        filled = true;
      }
      expect(filled, 'no form for userBearer in the authorize dialog').toBe(true);
      await tab.click('.btn-done');

      const op = '#operations-coupons-issueCoupon';
      await tab.click(`${op} .opblock-summary-control`);
      await tab.waitForSelector(`${op} .try-out__btn`);
      await tab.click(`${op} .try-out__btn`);
      await tab.locator(`${op} tr[data-param-name="userId"] input`).fill(String(user));
      await tab.locator(`${op} tr[data-param-name="couponId"] input`).fill(String(coupon.id));
      await tab.click(`${op} .execute`);
      const status = `${op} .live-responses-table .response .response-col_status`;
      await tab.waitForSelector(status, { timeout: 30_000 });
      expect((await tab.$eval(status, (e) => e.textContent ?? '')).trim()).toBe('202');
      expect((await sys.admin.stats(coupon.id)).admitted).toBe(1);
    } finally {
      await tab.close();
    }
  }, 120_000);
});
