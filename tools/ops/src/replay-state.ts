import { dltCountKey } from '@coupon/contracts';
import type { Redis } from 'ioredis';

/**
 * Which DLT records a replay already re-published although the group's committed offset could not
 * move past them (a skipped record sits before them in the same partition). One sorted set per
 * partition, offset as score; entries below the committed offset are trimmed as it advances.
 *
 * This is a cache that saves re-publishing, not the record of truth: if Redis loses it, the next
 * replay re-publishes those records once more, which the persister's idempotent insert absorbs.
 */
export function replayedKey(groupId: string, partition: number): string {
  return `coupon-ops:{${groupId}}:replayed:${partition}`;
}

export async function replayedOffsets(
  redis: Redis,
  groupId: string,
  partition: number,
  from: string,
  to: string,
): Promise<Set<string>> {
  const offsets = await redis.zrangebyscore(replayedKey(groupId, partition), from, `(${to}`);
  return new Set(offsets);
}

export async function markReplayed(
  redis: Redis,
  groupId: string,
  partition: number,
  offsets: readonly string[],
): Promise<void> {
  if (offsets.length === 0) return;
  await redis.zadd(replayedKey(groupId, partition), ...offsets.flatMap((o) => [o, o]));
}

/** Drops marks below the committed offset: the group itself now says those are done. */
export async function trimReplayed(
  redis: Redis,
  groupId: string,
  partition: number,
  committed: string,
): Promise<void> {
  await redis.zremrangebyscore(replayedKey(groupId, partition), '-inf', `(${committed}`);
}

// The per-coupon DLT counter is a convenience for stats (the topic is the record); it never goes below 0.
const DECREMENT = `
local v = tonumber(redis.call('GET', KEYS[1]) or '0')
if v <= 0 then return 0 end
local left = math.max(0, v - tonumber(ARGV[1]))
redis.call('SET', KEYS[1], left)
return left
`;

export async function decrementDltCounts(redis: Redis, counts: ReadonlyMap<number, number>): Promise<void> {
  await Promise.all([...counts].map(([couponId, n]) => redis.eval(DECREMENT, 1, dltCountKey(couponId), n)));
}
