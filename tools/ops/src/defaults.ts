/**
 * `coupon-ops reconcile`'s grace period: an admitted user without a row counts as missing only this
 * long after a reconcile first saw it. The same default as the issuers' RECONCILE_GRACE_MS: it must
 * exceed how long an admitted event can still land in Kafka (the producer's horizon, retries
 * included) plus the persister's normal lag, or reconcile would chase events that are on their way.
 * TODO(lead): derive from the producer horizon exported by the heal work once it is merged.
 */
export const DEFAULT_GRACE_MS = 60_000;

/** Republished events plus adopted rows per coupon and run: a large repair takes several runs. */
export const DEFAULT_MAX_REPAIRS = 100_000;
