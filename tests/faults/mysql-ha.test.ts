import { DbPool } from '@coupon/db';
import { afterAll, describe, expect, it } from 'vitest';
import { infra } from '../integration/harness.js';
import { Galera } from './private-galera.js';
import { type FaultRow, faultTable, runChecked } from './run.js';
import type { Timing } from './scenarios.js';
import { describeMysql, mysqlWriterKill } from './scenarios-mysql.js';
import { measureGuardedInsert } from './write-latency.js';

/**
 * MySQL replicated (the ha profile's Galera cluster behind HAProxy, a private copy per test).
 * Long form only (`pnpm faults`): the cluster alone takes 40–60 s to start on 2 cores.
 */
const LONG = process.env.FAULTS_LONG === '1';
const tm: Timing = {
  rate: Number(process.env.FAULTS_RATE ?? 200),
  beforeMs: 5_000,
  afterMs: 8_000,
  outageMs: 15_000,
};
const rows: FaultRow[] = [];

afterAll(() => {
  if (rows.length) console.log(`fault table (MySQL, ${tm.rate} req/s)\n${faultTable(rows)}`);
});

describe.runIf(LONG)('MySQL replicated: Galera behind HAProxy', () => {
  it('writer kill -9 under load: failover, the persister resumes there, no acknowledged row lost, never over the quantity', async () => {
    const galera = await Galera.start();
    const spec = await mysqlWriterKill(tm, galera, { rejoin: true }).catch(async (err) => {
      await galera.stop();
      throw err;
    });
    // the accounting reads the cluster through its writer port
    const pool = new DbPool({ url: galera.writerUrl, maximumPoolSize: 4 });
    const r = await runChecked(spec, pool, rows).finally(() => pool.end());
    console.log(`[faults] ${r.row.fault}: ${describeMysql(r.system)}`);
    const f = r.system.figures;
    expect(f.promotedS).toBeLessThan(15);
    expect(f.rowsResumedS).toBeLessThan(30);
    expect(f.writerAfterRejoin).toBe(f.writerAfter);
    expect(r.row.persisted).toBeGreaterThanOrEqual(f.rowsBeforeKill ?? 0);
  }, 600_000);

  it('write latency of the guarded batch insert: single node and the Galera writer', async () => {
    const galera = await Galera.start();
    try {
      const single = new URL(infra().DATABASE_URL);
      single.pathname = `/${single.pathname.slice(1)}_write_latency`;
      const a = await measureGuardedInsert(single.toString());
      const b = await measureGuardedInsert(galera.writerUrl.replace(/\/coupon$/, '/coupon_write_latency'));
      console.log(
        `[faults] guarded insert of 500 rows, ms: single node ${JSON.stringify(a)}; Galera writer ${JSON.stringify(b)}`,
      );
      expect(b.p50).toBeGreaterThan(0);
    } finally {
      await galera.stop();
    }
  }, 600_000);
});
