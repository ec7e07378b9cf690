import { gateKeys } from '@coupon/contracts';
import type { Redis } from 'ioredis';

/**
 * When reconcile first saw each admitted-but-missing user of a coupon (hash user → epoch ms). Redis
 * has no per-user admission time, so the grace period counts from the first reconcile run that saw
 * the user missing. Same hash tag as the gate, so it lives on the gate's Redis Cluster slot.
 */
export function missingKey(couponId: number): string {
  return `{coupon:${couponId}}:missing`;
}

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
 * Keeps the first-seen hash equal to the current missing set (new users get `now`, users no longer
 * missing are dropped) and splits the set into overdue (missing for at least graceMs) and pending.
 */
export async function ageMissing(
  redis: Redis,
  couponId: number,
  missing: readonly number[],
  graceMs: number,
  now = Date.now(),
): Promise<{ overdue: number[]; pending: number[] }> {
  const key = missingKey(couponId);
  const seen = await redis.hgetall(key);
  const current = new Set(missing.map(String));
  const gone = Object.keys(seen).filter((u) => !current.has(u));
  const fresh = missing.filter((u) => seen[String(u)] === undefined);
  const tx = redis.multi();
  if (gone.length > 0) tx.hdel(key, ...gone);
  for (const u of fresh) tx.hsetnx(key, String(u), String(now));
  if (gone.length > 0 || fresh.length > 0) await tx.exec();
  const overdue: number[] = [];
  const pending: number[] = [];
  for (const u of missing) (now - Number(seen[String(u)] ?? now) >= graceMs ? overdue : pending).push(u);
  return { overdue, pending };
}

/** After re-publishing, the grace period starts again: the new event needs its time to land too. */
export async function restartGrace(
  redis: Redis,
  couponId: number,
  users: readonly number[],
  now = Date.now(),
): Promise<void> {
  if (users.length === 0) return;
  await redis.hset(missingKey(couponId), Object.fromEntries(users.map((u) => [String(u), String(now)])));
}

// Adds users that hold a row to the admitted set and lowers stock to quantity − admitted (never
// below 0, never raised: more stock than that would let the gate over-issue, less only under-issues
// and is reported for an operator). Refuses when the gate is gone: that is rewarm's job.
const ADOPT = `
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
local q = tonumber(redis.call('HGET', KEYS[1], 'quantity'))
local added = 0
for i = 1, #ARGV do added = added + redis.call('SADD', KEYS[3], ARGV[i]) end
local want = math.max(0, q - redis.call('SCARD', KEYS[3]))
if tonumber(redis.call('GET', KEYS[2]) or '0') > want then redis.call('SET', KEYS[2], want) end
return added
`;

export async function adoptRows(redis: Redis, couponId: number, users: readonly number[]): Promise<number> {
  let added = 0;
  const CHUNK = 5_000;
  for (let i = 0; i === 0 || i < users.length; i += CHUNK) {
    const n = Number(await redis.eval(ADOPT, 3, ...gateKeys(couponId), ...users.slice(i, i + CHUNK)));
    if (n < 0) throw new Error(`coupon ${couponId}: gate is gone, run rewarm`);
    added += n;
  }
  return added;
}
