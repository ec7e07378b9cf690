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
 * Bytes of one DLT send at most: well under the broker's default message.max.bytes (1 MiB), which
 * bounds a whole record batch. A batch of a thousand refusals with their headers is larger, and a
 * send the broker refuses as too large is non-retriable: it would crash the consumer on every
 * redelivery of the same batch.
 */
export const DLT_SEND_MAX_BYTES = 256 * 1024;

type DltMessage = { key: Buffer | null; value: Buffer | null; headers: Record<string, string> };

const size = (m: DltMessage): number => {
  let n = 64 + (m.key?.length ?? 0) + (m.value?.length ?? 0);
  for (const [k, v] of Object.entries(m.headers)) n += k.length + Buffer.byteLength(v) + 8;
  return n;
};

/** The messages in order, cut into sends of at most `maxBytes` each (a larger message goes alone). */
export function dltChunks<M extends DltMessage>(
  messages: readonly M[],
  maxBytes = DLT_SEND_MAX_BYTES,
): M[][] {
  const out: M[][] = [];
  let cur: M[] = [];
  let bytes = 0;
  for (const m of messages) {
    const n = size(m);
    if (cur.length > 0 && bytes + n > maxBytes) {
      out.push(cur);
      cur = [];
      bytes = 0;
    }
    cur.push(m);
    bytes += n;
  }
  if (cur.length > 0) out.push(cur);
  return out;
}

/**
 * Publishes poison events to the DLT with acks=all, the original key and bytes, and headers saying
 * why and where from, in sends of at most DLT_SEND_MAX_BYTES, one after the other. Resolves only
 * once the broker has them all: the caller commits after this (a crash between two sends publishes
 * the first ones again on redelivery; a DLT entry twice is replayed as `existing`).
 */
export async function sendToDlt(
  producer: Pick<Producer, 'send'>,
  topic: string,
  redis: Pick<Redis, 'incrby'>,
  origin: DltOrigin,
  entries: DltEntry[],
): Promise<void> {
  if (entries.length === 0) return;
  const messages = entries.map((e) => ({
    key: e.message.key,
    value: e.message.value,
    headers: dltHeaders({ ...e, origin: { ...origin, offset: e.message.offset } }),
  }));
  for (const chunk of dltChunks(messages)) await producer.send({ topic, acks: -1, messages: chunk });
  const counts = new Map<number, number>();
  for (const e of entries) if (e.couponId) counts.set(e.couponId, (counts.get(e.couponId) ?? 0) + 1);
  // The per-coupon counter is a convenience for stats; the DLT topic is the record.
  await Promise.all([...counts].map(([id, n]) => redis.incrby(dltCountKey(id), n))).catch(() => undefined);
}
