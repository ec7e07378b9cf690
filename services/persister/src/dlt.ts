import { DLT_HEADERS, type DltReason, dltCountKey } from '@coupon/contracts';
import type { Redis } from 'ioredis';
import type { Producer } from 'kafkajs';
import type { Poison } from './decode.js';

export interface DltOrigin {
  topic: string;
  partition: number;
}

export interface DltEntry extends Poison {
  attempts: number;
  firstFailureAt: Date;
}

/**
 * Publishes poison events to the DLT with acks=all, the original key and bytes, and headers saying
 * why and where from. Resolves only once the broker has them: the caller commits after this.
 */
export async function sendToDlt(
  producer: Producer,
  topic: string,
  redis: Redis,
  origin: DltOrigin,
  entries: DltEntry[],
): Promise<void> {
  if (entries.length === 0) return;
  await producer.send({
    topic,
    acks: -1,
    messages: entries.map((e) => ({
      key: e.message.key,
      value: e.message.value,
      headers: dltHeaders(
        origin,
        e.message.offset,
        e.reason,
        e.error,
        e.attempts,
        e.firstFailureAt,
        e.couponId,
      ),
    })),
  });
  const counts = new Map<number, number>();
  for (const e of entries) if (e.couponId) counts.set(e.couponId, (counts.get(e.couponId) ?? 0) + 1);
  // The per-coupon counter is a convenience for stats; the DLT topic is the record.
  await Promise.all([...counts].map(([id, n]) => redis.incrby(dltCountKey(id), n))).catch(() => undefined);
}

export function dltHeaders(
  origin: DltOrigin,
  offset: string,
  reason: DltReason,
  error: string,
  attempts: number,
  firstFailureAt: Date,
  couponId?: number,
): Record<string, string> {
  const h: Record<string, string> = {
    [DLT_HEADERS.reason]: reason,
    [DLT_HEADERS.error]: error.slice(0, 1_000),
    [DLT_HEADERS.attempts]: String(attempts),
    [DLT_HEADERS.originTopic]: origin.topic,
    [DLT_HEADERS.originPartition]: String(origin.partition),
    [DLT_HEADERS.originOffset]: offset,
    [DLT_HEADERS.firstFailureAt]: firstFailureAt.toISOString(),
  };
  if (couponId) h[DLT_HEADERS.couponId] = String(couponId);
  return h;
}
