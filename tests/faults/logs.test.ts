import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import puppeteer from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Admin } from '../integration/harness.js';
import type { FaultProxy } from '../integration/proxy.js';
import { percentile } from './load.js';
import { type LogLine, VictoriaLogs } from './private-victorialogs.js';
import type { ServiceProcess } from './processes.js';
import { Topology } from './topology.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * Logs searchable by keyword: the three built services ship their pino lines to a private
 * VictoriaLogs (LOG_SHIP_URL); a real fault (the persister's pool exhausted on a slow database, as
 * in the fault suite) must be found by its keyword, one request followed by its id, and the store's
 * own web UI must show the same lines in headless Chromium. Prints the search latency: from the
 * time a line was logged (its own timestamp) to the first query that returned it.
 */
let vl: VictoriaLogs;
let topo: Topology;
let proxy: FaultProxy;
let gateway: ServiceProcess;
let issuer: ServiceProcess;
let admin: Admin;
const latencies: number[] = [];

/** Latency of the lines logged after the polling began (earlier ones waited for the query, not the store). */
const waitedFor = (found: { lines: LogLine[]; foundAt: number }, since: number) => {
  for (const l of found.lines)
    if (Date.parse(l._time) >= since) latencies.push(found.foundAt - Date.parse(l._time));
};

beforeAll(async () => {
  vl = await VictoriaLogs.start();
  topo = new Topology('logs by keyword');
  proxy = await topo.proxy(topo.databasePort());
  const ship = { LOG_SHIP_URL: vl.url };
  issuer = await topo.issuer('issuer', ship);
  await topo.persister('persister', {
    ...ship,
    DATABASE_URL: topo.databaseVia(proxy.port),
    DB_POOL_SIZE: '1',
    DB_CONNECTION_TIMEOUT_MS: '200',
    PARTITIONS_CONCURRENCY: '6',
  });
  gateway = await topo.gateway('gateway', issuer.url, ship);
  admin = topo.admin(gateway);
}, 600_000);
afterAll(async () => {
  if (latencies.length)
    console.log(
      `[logs] search latency (line logged → found), ms: p50 ${percentile(latencies, 0.5)} ` +
        `p95 ${percentile(latencies, 0.95)} max ${Math.max(...latencies)} over ${latencies.length} lines`,
    );
  await topo?.close();
  await vl?.stop();
});

async function issue(couponId: number, userId: number, requestId: string): Promise<number> {
  const res = await fetch(`${gateway.url}/coupons/${userId}/issue-async?couponId=${couponId}`, {
    method: 'POST',
    headers: { 'x-request-id': requestId },
  });
  await res.body?.cancel();
  return res.status;
}

describe('logs in VictoriaLogs', () => {
  it("a real fault's lines are found by keyword: ConnectionTimeout from the persister's exhausted pool", async () => {
    const coupon = await admin.createCoupon(10_000);
    proxy.delay(400);
    const since = Date.now();
    const search = vl.until('service:persister AND *:ConnectionTimeout', 60_000);
    const base = Math.floor(Math.random() * 1e9);
    const answers: number[] = [];
    for (let i = 0; i < 200; i += 20)
      answers.push(
        ...(await Promise.all(
          Array.from({ length: 20 }, (_, j) => issue(coupon.id, base + i + j, `logs-fault-${base}-${i + j}`)),
        )),
      );
    const accepted = answers.filter((s) => s === 202).length;
    expect(accepted, JSON.stringify(answers)).toBeGreaterThan(100);
    const found = await search;
    waitedFor(found, since);
    expect(found.lines[0]?._msg).toBe('database write failed, retrying');
    proxy.delay(0);
    await expect
      .poll(async () => (await admin.stats(coupon.id)).persisted, { timeout: 60_000 })
      .toBeGreaterThanOrEqual(accepted);
  }, 120_000);

  it('one request id across the services: issued by the issuer, persisted by the persister, a 503 from the gateway', async () => {
    const coupon = await admin.createCoupon(10);
    const id = `logs-req-${Date.now()}`;
    const since = Date.now();
    expect(await issue(coupon.id, 1, id)).toBe(202);
    const issued = await vl.until(`service:issuer AND *:~"${id}"`);
    const persisted = await vl.until(`service:persister AND *:~"${id}"`);
    waitedFor(issued, since);
    waitedFor(persisted, since);
    expect(issued.lines[0]?._msg).toBe('issued');
    expect(persisted.lines[0]?._msg).toBe('batch persisted');

    // The issuer gone: the gateway's failed batch names the request id its 503 carried.
    await issuer.kill();
    const failed = `logs-req-503-${Date.now()}`;
    const since503 = Date.now();
    expect(await issue(coupon.id, 2, failed)).toBe(503);
    const gw = await vl.until(`service:gateway AND *:~"${failed}"`);
    waitedFor(gw, since503);
    expect(gw.lines[0]?._msg).toBe('issuer batch failed');
    await issuer.start();
  }, 120_000);

  it("the store's web UI shows the keyword's lines in headless Chromium", async () => {
    if (!existsSync(CHROMIUM))
      execFileSync(`${ROOT}infra/local/stack`, ['chromium'], { stdio: ['ignore', 'inherit', 'inherit'] });
    const browser = await puppeteer.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
    });
    try {
      const page = await browser.newPage();
      await page.setViewport({ width: 1400, height: 900 });
      await page.goto(`${vl.url}/select/vmui/`, { waitUntil: 'networkidle0' });
      const box = await page.waitForSelector('textarea', { timeout: 30_000 });
      await box?.click({ count: 3 });
      await page.keyboard.type('service:persister AND *:ConnectionTimeout');
      const execute = await page.waitForSelector('::-p-text(Execute)');
      await execute?.click();
      // the default query's lines (every line) gone, the keyword's there
      await page.waitForFunction(
        "document.body.innerText.includes('database write failed, retrying') && !document.body.innerText.includes('batch persisted')",
        { timeout: 30_000 },
      );
      const dir = `${ROOT}.local/test-artifacts`;
      mkdirSync(dir, { recursive: true });
      await page.screenshot({ path: `${dir}/victorialogs-ui.png`, fullPage: false });
      console.log(`[logs] screenshot of the VictoriaLogs UI: ${dir}/victorialogs-ui.png`);
      const text = await page.$eval('body', (b) => (b as unknown as { innerText: string }).innerText);
      expect(text).toContain('database write failed, retrying');
      expect(text).not.toContain('issuer listening');
    } finally {
      await browser.close();
    }
  }, 180_000);
});
