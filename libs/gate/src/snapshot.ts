import { gateKeys } from '@coupon/contracts';
import type { Redis } from 'ioredis';
import { evalScript } from './lua.js';
import { ADOPT, ADOPT_CODES, couponKeys } from './scripts.js';

export interface GateSnapshot {
  quantity: number;
  remaining: number;
  admitted: number[];
}

/** quantity, stock and the admitted set read in one MULTI, so they agree with each other. */
export async function gateSnapshot(redis: Redis, couponId: number): Promise<GateSnapshot | undefined> {
  const [meta, stock, users] = gateKeys(couponId);
  const replies = await redis.multi().hget(meta, 'quantity').get(stock).smembers(users).exec();
  if (!replies) throw new Error('redis transaction aborted');
  for (const [err] of replies) if (err) throw err;
  const [q, left, members] = replies.map(([, v]) => v) as [string | null, string | null, string[]];
  if (q === null) return undefined;
  return { quantity: Number(q), remaining: Number(left ?? 0), admitted: members.map(Number) };
}

/**
 * Adds users that hold a row to a coupon's admitted set and lowers its stock to quantity − admitted
 * (never raises it). Throws when the gate is gone: rebuilding it is rewarm's job.
 */
export async function adoptRows(redis: Redis, couponId: number, users: readonly number[]): Promise<number> {
  let added = 0;
  const CHUNK = 5_000;
  const keys = couponKeys(couponId);
  for (let i = 0; i === 0 || i < users.length; i += CHUNK) {
    const chunk = users.slice(i, i + CHUNK);
    const n = Number(await evalScript(redis, ADOPT, keys, {}, chunk));
    if (n === ADOPT_CODES.GONE) throw new Error(`coupon ${couponId}: gate is gone, run rewarm`);
    added += n;
  }
  return added;
}
