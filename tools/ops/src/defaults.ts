/**
 * Reconcile's grace period: an admitted user without a row counts as missing only after this long.
 * It must exceed the issuer's producer delivery timeout (PRODUCER_DELIVERY_TIMEOUT_MS, 5 s, and its
 * retries) plus the persister's normal lag, or reconcile would chase events that are on their way.
 */
export const DEFAULT_GRACE_MS = 30_000;
