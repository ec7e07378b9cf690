import {
  type CouponIssuedEvent,
  type DltReason,
  decodeIssuedEvent,
  type RecordHeaders,
} from '@coupon/contracts';
import type { CouponIssue } from '@coupon/db';

export interface RawMessage {
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers?: RecordHeaders;
}

export interface Poison {
  message: RawMessage;
  reason: DltReason;
  error: string;
  couponId?: number;
}

export interface Decoded {
  events: Array<{ message: RawMessage; event: CouponIssuedEvent }>;
  poison: Poison[];
}

/** Splits a fetched batch into valid events and poison (not JSON, or fails the event schema). */
export function decode(messages: readonly RawMessage[]): Decoded {
  const out: Decoded = { events: [], poison: [] };
  for (const message of messages) {
    const d = decodeIssuedEvent(message.value);
    if (d.ok) out.events.push({ message, event: d.event });
    else out.poison.push({ message, reason: 'SCHEMA_INVALID', error: d.error, couponId: d.couponId });
  }
  return out;
}

export function toRow(e: CouponIssuedEvent): CouponIssue {
  return { couponId: e.couponId, userId: e.userId, eventId: e.eventId, issuedAt: new Date(e.issuedAt) };
}
