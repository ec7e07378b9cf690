/**
 * The rows of one coupon in MySQL: count, duplicates, and the exact event-to-row latency
 * (created_at − issued_at: when the row was written minus when the gate admitted the user).
 *
 *   node src/rows.ts <couponId> [out.json] [--settle]
 * --settle first waits (at most 60 s) until the coupon's stats stop moving and every admitted user is
 * a row or a DLT entry: requests k6 gave up on may still be answered by the server after the test.
 * DATABASE_URL (default the local stack's), BASE_URL and ADMIN_TOKEN for the stats.
 */
import { writeFile } from 'node:fs/promises';
import { adminClient, type CouponStats } from '@coupon/contracts';
import mysql from 'mysql2/promise';

export interface RowStats {
  couponId: number;
  /** The coupon's stats once settled (with --settle). */
  final?: CouponStats;
  rows: number;
  distinctUsers: number;
  /** Event-to-row latency in ms. */
  eventToRow?: { p50: number; p90: number; p99: number; max: number; mean: number };
  firstRowAt?: string;
  lastRowAt?: string;
  /** Rows per second between the first and the last row written. */
  writeRate?: number;
}

export const DATABASE_URL = process.env.DATABASE_URL ?? 'mysql://coupon:coupon@127.0.0.1:3307/coupon';
const BASE_URL = process.env.BASE_URL ?? 'http://127.0.0.1:3000';
const ADMIN_TOKEN = process.env.ADMIN_TOKEN ?? 'dev-admin-token';

const admin = adminClient({ url: BASE_URL, token: ADMIN_TOKEN, timeoutMs: 10_000 });
const couponStats = (couponId: number) => admin.couponStats({ couponId });

/** Waits until admitted is stable for 2 s and persisted + dlt == admitted (bounded). */
export async function settle(couponId: number, timeoutMs = 60_000): Promise<CouponStats> {
  const until = Date.now() + timeoutMs;
  let last = await couponStats(couponId);
  let stableSince = Date.now();
  for (;;) {
    await new Promise((r) => setTimeout(r, 500));
    const s = await couponStats(couponId);
    if (s.admitted !== last.admitted || s.persisted !== last.persisted) stableSince = Date.now();
    last = s;
    const caughtUp = s.persisted + s.dlt >= s.admitted;
    if ((caughtUp && Date.now() - stableSince >= 2_000) || Date.now() > until) return s;
  }
}

function pct(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? 0;
}

export async function rowStats(couponId: number, url = DATABASE_URL): Promise<RowStats> {
  const conn = await mysql.createConnection({ uri: url, dateStrings: true });
  try {
    const [agg] = await conn.query<mysql.RowDataPacket[]>(
      `SELECT COUNT(*) AS n, COUNT(DISTINCT user_id) AS users, MIN(created_at) AS first, MAX(created_at) AS last,
              TIMESTAMPDIFF(MICROSECOND, MIN(created_at), MAX(created_at)) / 1e6 AS span
         FROM coupon_issue WHERE coupon_id = ?`,
      [couponId],
    );
    const a: Record<string, unknown> = agg[0] ?? {};
    const rows = Number(a.n ?? 0);
    const out: RowStats = { couponId, rows, distinctUsers: Number(a.users ?? 0) };
    if (rows === 0) return out;
    const [lat] = await conn.query<mysql.RowDataPacket[]>(
      'SELECT TIMESTAMPDIFF(MICROSECOND, issued_at, created_at) / 1000 AS ms FROM coupon_issue WHERE coupon_id = ?',
      [couponId],
    );
    const ms = lat.map((r) => Number(r.ms)).sort((x, y) => x - y);
    out.eventToRow = {
      p50: pct(ms, 0.5),
      p90: pct(ms, 0.9),
      p99: pct(ms, 0.99),
      max: ms.at(-1) ?? 0,
      mean: ms.reduce((x, y) => x + y, 0) / ms.length,
    };
    out.firstRowAt = String(a.first);
    out.lastRowAt = String(a.last);
    const span = Number(a.span ?? 0);
    if (span > 0) out.writeRate = rows / span;
    return out;
  } finally {
    await conn.end();
  }
}

if (import.meta.main) {
  const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
  const id = Number(args[0]);
  if (!Number.isInteger(id) || id <= 0) {
    console.error('usage: node src/rows.ts <couponId> [out.json] [--settle]');
    process.exit(2);
  }
  const final = process.argv.includes('--settle') ? await settle(id) : undefined;
  const stats = { ...(await rowStats(id)), final };
  const json = JSON.stringify(stats, null, 2);
  if (args[1]) await writeFile(args[1], `${json}\n`);
  else console.log(json);
}
