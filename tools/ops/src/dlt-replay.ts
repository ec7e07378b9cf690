import { replayHeaders } from '@coupon/contracts';
import { rangeSize, rangesFromGroup, readRanges } from '@coupon/gate';
import { connectProducer, type Io, type OpsDeps } from './deps.js';
import { type DltFilter, type DltRecord, matches, toDltRecord } from './dlt-record.js';
import { line, progress } from './output.js';
import { decrementDltCounts, markReplayed, replayedOffsets, trimReplayed } from './replay-state.js';

export interface DltReplayOptions extends DltFilter {
  /** Re-publish at most this many records in this run. */
  limit?: number;
  dryRun?: boolean;
}

export interface DltReplayResult {
  dryRun: boolean;
  scanned: number;
  /** Re-published and acknowledged (dry run: would be). */
  replayed: number;
  /** Matching records an earlier run already re-published: not sent again. */
  alreadyReplayed: number;
  /** Not matching the filter, over --limit, or not replayable: left in place for a later run. */
  skipped: number;
  /** Matching records whose value fails the current event schema: re-publishing would only send them back. */
  unreplayable: number;
  /** Partitions held by another replay running at the same time. */
  unassigned: number[];
}

/**
 * Re-publishes matching DLT records to the main topic, as the consumer group `<prefix>coupon-dlt-replay`.
 *
 * The group's committed offset in a partition means "every record below it has been re-published and
 * acknowledged". A run starts there and reads up to the high watermark taken at its start:
 * - a matching record is re-published with its original key and value (idempotent producer,
 *   acks=all); only after the broker acknowledged it may the offset move past it;
 * - a record the run skips (other coupon or reason, over --limit, value not valid) stops the offset
 *   for the rest of that partition in this run, so a later run with another filter still finds it.
 *   Matching records after it are still re-published, and remembered in Redis (replay-state.ts) so
 *   that the next run does not send them again and can move the offset past them.
 * Guarantees: (a) nothing is lost: the DLT is never changed and no offset passes a record that was
 * not re-published; (b) replaying twice makes no duplicate row: at worst (Redis lost the marks, or a
 * crash between acknowledgement and commit) an event goes out twice and the persister's insert is
 * idempotent on (coupon_id, user_id); (c) --dry-run reads with a throwaway group from the replay
 * group's offsets and produces, commits and writes nothing.
 */
export async function replayDlt(deps: OpsDeps, opts: DltReplayOptions = {}): Promise<DltReplayResult> {
  const topic = deps.topics.issuedDlt;
  const dryRun = opts.dryRun ?? false;
  const ranges = await rangesFromGroup(deps.admin, topic, deps.replayGroup);
  const res: DltReplayResult = {
    dryRun,
    scanned: 0,
    replayed: 0,
    alreadyReplayed: 0,
    skipped: 0,
    unreplayable: 0,
    unassigned: [],
  };
  const bar = progress(deps.io, rangeSize(ranges), dryRun ? 'dry run' : 'replay');
  const producer = dryRun ? undefined : await connectProducer(deps.kafka);
  const blocked = new Set<number>();
  const limitReached = () => opts.limit !== undefined && res.replayed >= opts.limit;
  try {
    const read = await readRanges(deps.kafka, {
      topic,
      ranges,
      groupId: dryRun ? undefined : deps.replayGroup,
      signal: deps.signal,
      onBatch: async ({ partition, messages, commit }) => {
        const first = messages[0]!.offset;
        const end = (BigInt(messages.at(-1)!.offset) + 1n).toString();
        const marked = await replayedOffsets(deps.redis, deps.replayGroup, partition, first, end);
        const publish: DltRecord[] = [];
        let frontier: string | undefined;
        for (const m of messages) {
          res.scanned++;
          const r = toDltRecord(partition, m);
          const wanted = matches(r, opts);
          let handled = marked.has(r.offset);
          if (handled) {
            if (wanted) res.alreadyReplayed++;
          } else if (
            wanted &&
            r.event &&
            res.replayed + publish.length < (opts.limit ?? Number.POSITIVE_INFINITY)
          ) {
            publish.push(r);
            handled = true;
          } else if (wanted && !r.event) {
            res.unreplayable++;
          }
          if (!handled) {
            res.skipped++;
            blocked.add(partition);
          } else if (!blocked.has(partition)) {
            frontier = (BigInt(r.offset) + 1n).toString();
          }
        }
        bar.advance(messages.length);
        if (producer && publish.length > 0) {
          await producer.send({
            topic: deps.topics.issued,
            acks: -1,
            messages: publish.map((r) => republished(topic, r)),
          });
          await markReplayed(
            deps.redis,
            deps.replayGroup,
            partition,
            publish.map((r) => r.offset),
          );
        }
        if (producer && frontier) {
          await commit(frontier);
          await trimReplayed(deps.redis, deps.replayGroup, partition, frontier);
        }
        if (producer) await decrementDltCounts(deps.redis, countByCoupon(publish));
        res.replayed += publish.length;
        return limitReached() ? 'stop' : undefined;
      },
    });
    res.unassigned = read.unassigned;
  } finally {
    bar.stop();
    await producer?.disconnect().catch(() => undefined);
  }
  return res;
}

function republished(dltTopic: string, r: DltRecord) {
  const from = { topic: dltTopic, partition: r.partition, offset: r.offset };
  return { key: r.rawKey, value: r.value, headers: replayHeaders(from, r.event) };
}

function countByCoupon(records: readonly DltRecord[]): Map<number, number> {
  const counts = new Map<number, number>();
  for (const r of records) if (r.couponId) counts.set(r.couponId, (counts.get(r.couponId) ?? 0) + 1);
  return counts;
}

export function printReplay(io: Io, r: DltReplayResult): void {
  const verb = r.dryRun ? 'would replay' : 'replayed';
  line(
    io.out,
    `${r.dryRun ? 'dry run: ' : ''}scanned ${r.scanned}, ${verb} ${r.replayed}, already replayed ${r.alreadyReplayed}, ` +
      `skipped ${r.skipped} (of which ${r.unreplayable} matching but not a valid event)`,
  );
  if (r.unassigned.length > 0)
    line(io.err, `warning: partitions ${r.unassigned.join(',')} were held by another replay and not read`);
}
