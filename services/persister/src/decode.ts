import {
  type CouponIssuedEvent,
  couponIssuedEvent,
  type DltReason,
  REPLAYED_FROM_HEADER,
} from '@coupon/contracts';
import type { CouponIssue } from '@coupon/db';

export interface RawMessage {
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers?: Readonly<Record<string, unknown>>;
}

/** True when the DLT command re-published this event (it carries REPLAYED_FROM_HEADER). */
export function isReplay(message: RawMessage): boolean {
  return message.headers?.[REPLAYED_FROM_HEADER] !== undefined;
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
    let json: unknown;
    try {
      json = JSON.parse(message.value?.toString('utf8') ?? '');
    } catch {
      out.poison.push({ message, reason: 'SCHEMA_INVALID', error: 'value is not JSON' });
      continue;
    }
    const parsed = couponIssuedEvent.safeParse(json);
    if (parsed.success) out.events.push({ message, event: parsed.data });
    else
      out.poison.push({
        message,
        reason: 'SCHEMA_INVALID',
        error: parsed.error.issues
          .map((i) => `${i.path.join('.')}: ${i.message}`)
          .join('; ')
          .slice(0, 500),
        couponId: couponIdOf(json),
      });
  }
  return out;
}

function couponIdOf(json: unknown): number | undefined {
  const id = (json as { couponId?: unknown } | null)?.couponId;
  return typeof id === 'number' && Number.isSafeInteger(id) && id > 0 ? id : undefined;
}

export function toRow(e: CouponIssuedEvent): CouponIssue {
  return { couponId: e.couponId, userId: e.userId, eventId: e.eventId, issuedAt: new Date(e.issuedAt) };
}

/** Exponential back-off with full jitter, capped. attempt starts at 1. */
export function backoffMs(attempt: number, capMs: number, baseMs = 100): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.min(attempt - 1, 20));
  return Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
}
