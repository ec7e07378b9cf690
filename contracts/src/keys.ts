// Redis keys of one coupon share the hash tag {coupon:ID}, so the gate script (which touches all of
// them) runs on Redis Cluster. Renaming a key orphans live gates: rewarm every open coupon after.

/** meta (hash: quantity, opensAt, closesAt), stock (remaining count), users (set of admitted users). */
export function gateKeys(couponId: number): [meta: string, stock: string, users: string] {
  const tag = `{coupon:${couponId}}`;
  return [`${tag}:meta`, `${tag}:stock`, `${tag}:users`];
}

/** Per-coupon count of events in the DLT, kept by the persister and the DLT command. */
export function dltCountKey(couponId: number): string {
  return `{coupon:${couponId}}:dlt`;
}

/**
 * Lock held while a lost gate is rebuilt (by an issuer or `coupon-ops rewarm`): value is the
 * holder's random token, set with NX and a TTL. Same hash tag, so the rebuild scripts can check it.
 */
export function gateLockKey(couponId: number): string {
  return `{coupon:${couponId}}:rebuild-lock`;
}

/**
 * Reconcile's grace per admission (hash user → "firstSeenMs:dueMs", Redis clock): when a round first
 * saw the admitted user without a row, and when it may act. The gate's release script deletes the
 * user's field, so a user released and admitted again starts a fresh grace.
 */
export function reconcileGraceKey(couponId: number): string {
  return `{coupon:${couponId}}:missing`;
}

/** Held (token, NX, TTL) while one reconcile, an issuer's or `coupon-ops reconcile`, works the coupon. */
export function reconcileLockKey(couponId: number): string {
  return `{coupon:${couponId}}:reconcile-lock`;
}

/**
 * Sorted set of coupon ids, score = the last time an issuer served the coupon (epoch ms): the
 * automatic reconcile works those active within RECONCILE_ACTIVE_HOURS. Spans coupons, so no hash tag.
 */
export const RECONCILE_ACTIVE_KEY = 'coupon:reconcile:active';
