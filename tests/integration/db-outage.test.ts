import { countIssues, type DbPool, duplicateIssues } from '@coupon/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sleep } from '../support/index.js';
import { infra, issue, type System, startSystem, tally, testPool, userIds } from './harness.js';
import { FaultProxy } from './proxy.js';

let sys: System;
let pool: DbPool;
let dbProxy: FaultProxy;

beforeAll(async () => {
  const db = new URL(infra().DATABASE_URL);
  dbProxy = await new FaultProxy(Number(db.port)).start();
  db.port = String(dbProxy.port);
  sys = await startSystem({
    persisterEnv: {
      DATABASE_URL: db.toString(),
      DB_CONNECTION_TIMEOUT_MS: '300',
      RETRY_MAX_BACKOFF_MS: '500',
    },
  });
  pool = testPool();
});
afterAll(async () => {
  await sys?.stop();
  await dbProxy?.stop();
  await pool?.end();
});

describe('I3 under a database outage', () => {
  it('error: the persister backs off while MariaDB is unreachable, sends nothing to the DLT, and drains after', async () => {
    const coupon = await sys.admin.createCoupon(300);
    await dbProxy.refuse();

    const answers = await Promise.all(userIds(300).map((u) => issue(sys.url, u, coupon.id)));
    expect(tally(answers)['202']).toBe(300);

    // Long enough for several failed attempts and back-offs.
    await sleep(3_000);
    const during = await sys.admin.stats(coupon.id);
    expect(during.persisted).toBe(0);
    expect(during.dlt).toBe(0);

    await dbProxy.accept();
    await expect
      .poll(() => sys.admin.stats(coupon.id))
      .toMatchObject({ admitted: 300, persisted: 300, dlt: 0 });
    expect(await countIssues(pool, coupon.id)).toBe(300);
    expect(await duplicateIssues(pool, coupon.id)).toBe(0);
  });
});
