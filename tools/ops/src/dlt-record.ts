import { type CouponIssuedEvent, type DltReason, decodeIssuedEvent, readDltHeaders } from '@coupon/contracts';
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

export function toDltRecord(partition: number, m: KafkaMessage): DltRecord {
  const decoded = decodeIssuedEvent(m.value);
  const dlt = readDltHeaders(m.headers);
  return {
    partition,
    offset: m.offset,
    key: m.key?.toString('utf8') ?? null,
    ...dlt,
    couponId: dlt.couponId ?? (decoded.ok ? decoded.event.couponId : decoded.couponId),
    userId: decoded.ok ? decoded.event.userId : decoded.userId,
    event: decoded.ok ? decoded.event : undefined,
    value: m.value,
    rawKey: m.key,
  };
}

export function matches(r: DltRecord, f: DltFilter): boolean {
  if (f.couponId !== undefined && r.couponId !== f.couponId) return false;
  if (f.reason !== undefined && r.reason !== f.reason) return false;
  return true;
}
