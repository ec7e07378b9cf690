import { performance } from 'node:perf_hooks';
import { DbPool, ensureDatabase, insertCoupon, insertIssuesGuarded, runMigrations } from '@coupon/db';
import { percentile } from './load.js';

export interface WriteLatency {
  batches: number;
  rows: number;
  p50: number;
  p95: number;
  max: number;
}

/**
 * The persister's write as it runs: one transaction that locks the coupon row (the quantity guard)
 * and inserts `rows` issues, `batches` times in a row on one coupon; milliseconds per batch.
 */
export async function measureGuardedInsert(url: string, batches = 40, rows = 500): Promise<WriteLatency> {
  await ensureDatabase(url);
  await runMigrations(url);
  const pool = new DbPool({ url, maximumPoolSize: 2 });
  try {
    const coupon = await insertCoupon(pool, {
      name: 'write-latency',
      quantity: batches * rows,
      opensAt: new Date(),
      closesAt: new Date('2999-01-01T00:00:00Z'),
    });
    const ms: number[] = [];
    for (let b = 0; b < batches; b++) {
      const batch = Array.from({ length: rows }, (_, i) => ({
        couponId: coupon.id,
        userId: b * rows + i + 1,
        eventId: `${coupon.id}-${b}-${i}`,
        issuedAt: new Date(),
      }));
      const t0 = performance.now();
      await insertIssuesGuarded(pool, batch);
      ms.push(performance.now() - t0);
    }
    const r = (v: number) => Math.round(v * 10) / 10;
    return {
      batches,
      rows,
      p50: r(percentile(ms, 0.5)),
      p95: r(percentile(ms, 0.95)),
      max: r(Math.max(...ms)),
    };
  } finally {
    await pool.end();
  }
}
