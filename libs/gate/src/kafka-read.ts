import { randomUUID } from 'node:crypto';
import { retrying } from '@coupon/kit';
import type { Admin, Kafka, KafkaMessage } from 'kafkajs';

/** Offsets [from, to) of one partition: `to` is the high watermark when the read started. */
export interface Range {
  partition: number;
  from: string;
  to: string;
}

/**
 * Ranges from a consumer group's committed offsets (the low watermark where it has none or where
 * retention removed them) up to the current high watermarks. Records produced after this call are
 * left for the next run, so every read ends.
 */
export async function rangesFromGroup(
  admin: Admin,
  topic: string,
  groupId: string | undefined,
): Promise<Range[]> {
  const ends = await retrying(() => admin.fetchTopicOffsets(topic));
  const committed = new Map<number, bigint>();
  if (groupId) {
    const [t] = await retrying(() => admin.fetchOffsets({ groupId, topics: [topic] }));
    for (const p of t?.partitions ?? []) committed.set(p.partition, BigInt(p.offset));
  }
  return ends
    .map(({ partition, low, high }) => {
      const c = committed.get(partition) ?? -1n;
      const from = c < BigInt(low) ? BigInt(low) : c > BigInt(high) ? BigInt(high) : c;
      return { partition, from: from.toString(), to: high };
    })
    .sort((a, b) => a.partition - b.partition);
}

export function rangeSize(ranges: readonly Range[]): number {
  return ranges.reduce((n, r) => n + Number(BigInt(r.to) - BigInt(r.from)), 0);
}

export interface ReadBatch {
  partition: number;
  /** Only records inside the range, in offset order. */
  messages: KafkaMessage[];
  /** Commits `offset` (the next one to read) for the reading group. Only the replay uses it. */
  commit(offset: string): Promise<void>;
}

export interface ReadOptions {
  topic: string;
  ranges: readonly Range[];
  /**
   * The group to read as. Without one a throwaway group is used: it never commits, and it is
   * deleted afterwards, so reading changes nothing in Kafka.
   */
  groupId?: string;
  /** Return 'stop' to end the read early (a --limit was reached). */
  onBatch(batch: ReadBatch): Promise<undefined | 'stop'>;
  /** Give up when nothing arrives for this long although records are still expected. */
  idleTimeoutMs?: number;
  signal?: AbortSignal;
}

export interface ReadResult {
  /** Partitions another member of the group held, so this run did not read them. */
  unassigned: number[];
}

/**
 * Reads the given ranges with a consumer that seeks to each range's start and stops once every
 * partition it was assigned reached the range's end. autoCommit is off: offsets move only through
 * ReadBatch.commit.
 */
export async function readRanges(kafka: Kafka, opts: ReadOptions): Promise<ReadResult> {
  const pending = new Map(
    opts.ranges.filter((r) => BigInt(r.from) < BigInt(r.to)).map((r) => [r.partition, r]),
  );
  if (pending.size === 0) return { unassigned: [] };
  const throwaway = opts.groupId === undefined;
  const groupId = opts.groupId ?? `coupon-ops-read-${randomUUID()}`;
  const consumer = kafka.consumer({
    groupId,
    sessionTimeout: 10_000,
    heartbeatInterval: 1_000,
    allowAutoTopicCreation: false,
    maxWaitTimeInMs: 200,
  });
  const unassigned: number[] = [];
  let lastProgress = Date.now();
  let finished = false;
  let settle!: (err?: unknown) => void;
  const done = new Promise<void>((resolve, reject) => {
    settle = (err) => (err ? reject(err) : resolve());
  });
  done.catch(() => undefined); // a failure before `await done` (connect, run) must not go unhandled
  // Once finished, batches still fetched are ignored: nothing runs past a --limit or an error.
  const finish = (err?: unknown) => {
    finished = true;
    settle(err);
  };

  consumer.on(consumer.events.GROUP_JOIN, (e) => {
    const mine = new Set(e.payload.memberAssignment[opts.topic] ?? []);
    for (const p of [...pending.keys()]) {
      if (!mine.has(p)) {
        pending.delete(p);
        unassigned.push(p);
      }
    }
    if (pending.size === 0) finish();
  });
  consumer.on(consumer.events.CRASH, (e) => finish(e.payload.error));
  const onAbort = () => finish(new Error('interrupted'));
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  const idle = setInterval(() => {
    if (Date.now() - lastProgress > (opts.idleTimeoutMs ?? 60_000)) {
      finish(
        new Error(
          `no records from ${opts.topic} for ${opts.idleTimeoutMs ?? 60_000} ms, partitions ${[...pending.keys()].join(',')} unfinished`,
        ),
      );
    }
  }, 500);

  try {
    await consumer.connect();
    await consumer.subscribe({ topic: opts.topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch }) => {
        const range = pending.get(batch.partition);
        if (!range || finished) return;
        lastProgress = Date.now();
        const [start, end] = [BigInt(range.from), BigInt(range.to)];
        const messages = batch.messages.filter((m) => BigInt(m.offset) >= start && BigInt(m.offset) < end);
        const last = messages.at(-1);
        const reachedEnd = BigInt(batch.lastOffset()) >= end - 1n;
        const commit = (offset: string) =>
          consumer.commitOffsets([{ topic: opts.topic, partition: batch.partition, offset }]);
        let verdict: undefined | 'stop';
        try {
          if (messages.length > 0)
            verdict = await opts.onBatch({ partition: batch.partition, messages, commit });
        } catch (err) {
          // Not kafkajs's retry: this read fails, and what was committed so far stays committed.
          return finish(err);
        }
        if (verdict === 'stop') return finish();
        if (reachedEnd || (last && BigInt(last.offset) >= end - 1n)) {
          pending.delete(batch.partition);
          consumer.pause([{ topic: opts.topic, partitions: [batch.partition] }]);
          if (pending.size === 0) finish();
        }
      },
    });
    for (const r of pending.values())
      consumer.seek({ topic: opts.topic, partition: r.partition, offset: r.from });
    const idlePartitions = opts.ranges.map((r) => r.partition).filter((p) => !pending.has(p));
    if (idlePartitions.length > 0) consumer.pause([{ topic: opts.topic, partitions: idlePartitions }]);
    await done;
    return { unassigned };
  } finally {
    clearInterval(idle);
    opts.signal?.removeEventListener('abort', onAbort);
    await consumer.disconnect().catch(() => undefined);
    if (throwaway) await deleteGroup(kafka, groupId);
  }
}

/** Best effort: an empty group with no offsets expires on its own anyway. */
async function deleteGroup(kafka: Kafka, groupId: string): Promise<void> {
  const admin = kafka.admin();
  try {
    await admin.connect();
    await admin.deleteGroups([groupId]);
  } catch {
    // already gone or not yet empty: the broker expires it
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
