import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { id } from './ids.js';

/**
 * Event on TOPICS.issued: one user admitted for one coupon. Keyed by user id (not coupon id) so that
 * one sale spreads over every partition. Bump `v` for an incompatible change and keep the persister
 * reading the previous version until the topic has drained of it.
 */
export const COUPON_ISSUED_VERSION = 1;

export const couponIssuedEvent = z.object({
  v: z.literal(COUPON_ISSUED_VERSION),
  eventId: z.uuid(),
  couponId: id,
  userId: id,
  /** When the gate admitted the user, epoch milliseconds. */
  issuedAt: z.number().int().positive(),
  requestId: z.string().max(128),
});

export type CouponIssuedEvent = z.infer<typeof couponIssuedEvent>;

export function eventKey(e: Pick<CouponIssuedEvent, 'userId'>): string {
  return String(e.userId);
}

/** A new event for an admission: a fresh eventId, issued now (the issuer, reconcile, tests, bench). */
export function newIssuedEvent(couponId: number, userId: number, requestId: string): CouponIssuedEvent {
  return {
    v: COUPON_ISSUED_VERSION,
    eventId: randomUUID(),
    couponId,
    userId,
    issuedAt: Date.now(),
    requestId,
  };
}
