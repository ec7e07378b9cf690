import { type CouponIssuedEvent, couponIssuedEvent, DLT_HEADERS, type DltReason } from '@coupon/contracts';
import { header } from '@coupon/gate';
import type { KafkaMessage } from 'kafkajs';

/** One DLT record as an operator sees it: where it is, why it is there, and what it carries. */
export interface DltRecord {
  partition: number;
  offset: string;
  key: string | null;
  reason: string | undefined;
  error: string | undefined;
  attempts: number | undefined;
  firstFailureAt: string | undefined;
  couponId: number | undefined;
  userId: number | undefined;
  /** The value parsed with the current event schema; undefined when it does not parse. */
  event: CouponIssuedEvent | undefined;
  /** The original bytes, re-published as they are by a replay. */
  value: Buffer | null;
  rawKey: Buffer | null;
}

export interface DltFilter {
  couponId?: number;
  reason?: DltReason;
}

function positiveInt(s: string | undefined): number | undefined {
  const n = Number(s);
  return s !== undefined && Number.isSafeInteger(n) && n > 0 ? n : undefined;
}

export function toDltRecord(partition: number, m: KafkaMessage): DltRecord {
  let json: unknown;
  try {
    json = JSON.parse(m.value?.toString('utf8') ?? '');
  } catch {
    json = undefined;
  }
  const parsed = couponIssuedEvent.safeParse(json);
  const loose = (json ?? {}) as { couponId?: unknown; userId?: unknown };
  const looseId = (v: unknown) => (typeof v === 'number' ? positiveInt(String(v)) : undefined);
  const attempts = Number(header(m.headers, DLT_HEADERS.attempts));
  return {
    partition,
    offset: m.offset,
    key: m.key?.toString('utf8') ?? null,
    reason: header(m.headers, DLT_HEADERS.reason),
    error: header(m.headers, DLT_HEADERS.error),
    attempts: Number.isFinite(attempts) ? attempts : undefined,
    firstFailureAt: header(m.headers, DLT_HEADERS.firstFailureAt),
    couponId: positiveInt(header(m.headers, DLT_HEADERS.couponId)) ?? looseId(loose.couponId),
    userId: looseId(loose.userId),
    event: parsed.success ? parsed.data : undefined,
    value: m.value,
    rawKey: m.key,
  };
}

export function matches(r: DltRecord, f: DltFilter): boolean {
  if (f.couponId !== undefined && r.couponId !== f.couponId) return false;
  if (f.reason !== undefined && r.reason !== f.reason) return false;
  return true;
}
