import type { Redis } from 'ioredis';

/**
 * When reconcile first saw each admitted-but-missing user of a coupon (hash user → epoch ms). Redis
 * has no per-user admission time, so the grace period counts from the first reconcile run that saw
 * the user missing. Same hash tag as the gate, so it lives on the gate's Redis Cluster slot.
 */
export function missingKey(couponId: number): string {
  return `{coupon:${couponId}}:missing`;
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
