import { dltCountKey, dltHeaders } from '@coupon/contracts';
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
  producer: Pick<Producer, 'send'>,
  topic: string,
  redis: Pick<Redis, 'incrby'>,
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
      headers: dltHeaders({ ...e, origin: { ...origin, offset: e.message.offset } }),
    })),
  });
  const counts = new Map<number, number>();
  for (const e of entries) if (e.couponId) counts.set(e.couponId, (counts.get(e.couponId) ?? 0) + 1);
  // The per-coupon counter is a convenience for stats; the DLT topic is the record.
  await Promise.all([...counts].map(([id, n]) => redis.incrby(dltCountKey(id), n))).catch(() => undefined);
}
