import { rangesFromGroup, readRanges } from '@coupon/gate';
import type { Io, OpsDeps } from './deps.js';
import type { DltFilter, DltRecord } from './dlt-record.js';
import { matches, toDltRecord } from './dlt-record.js';
import { line, table } from './output.js';
import { replayedOffsets } from './replay-state.js';

export interface DltListOptions extends DltFilter {
  limit?: number;
}

export interface DltListEntry extends Omit<DltRecord, 'value' | 'rawKey' | 'event'> {
  value: string | null;
  /** A replay already re-published it (below the replay group's offset, or marked). */
  replayed: boolean;
}

/**
 * Reads the DLT from its start to the high watermark taken when the command started, with a
 * throwaway consumer group that never commits, and returns the matching records.
 */
export async function listDlt(deps: OpsDeps, opts: DltListOptions = {}): Promise<DltListEntry[]> {
  const topic = deps.topics.issuedDlt;
  const ranges = await rangesFromGroup(deps.admin, topic, undefined);
  const replayed = await rangesFromGroup(deps.admin, topic, deps.replayGroup);
  const frontier = new Map(replayed.map((r) => [r.partition, BigInt(r.from)]));
  const marks = new Map<number, Set<string>>();
  for (const r of ranges)
    marks.set(r.partition, await replayedOffsets(deps.redis, deps.replayGroup, r.partition, r.from, r.to));

  const out: DltListEntry[] = [];
  await readRanges(deps.kafka, {
    topic,
    ranges,
    signal: deps.signal,
    onBatch: async ({ partition, messages }) => {
      for (const m of messages) {
        const r = toDltRecord(partition, m);
        if (!matches(r, opts)) continue;
        const { value, rawKey: _k, event: _e, ...rest } = r;
        const replayed =
          BigInt(r.offset) < (frontier.get(partition) ?? -1n) ||
          (marks.get(partition)?.has(r.offset) ?? false);
        out.push({ ...rest, value: value?.toString('utf8') ?? null, replayed });
        if (opts.limit !== undefined && out.length >= opts.limit) return 'stop';
      }
      return undefined;
    },
  });
  return out.sort((a, b) => a.partition - b.partition || Number(BigInt(a.offset) - BigInt(b.offset)));
}

export function printDltList(io: Io, entries: readonly DltListEntry[], json: boolean): void {
  if (json) {
    line(io.out, JSON.stringify(entries, null, 2));
    return;
  }
  const rows = entries.map((e) => [
    e.partition,
    e.offset,
    e.couponId ?? '-',
    e.userId ?? '-',
    e.reason ?? '-',
    (e.error ?? '-').slice(0, 60),
    e.attempts ?? '-',
    e.firstFailureAt ?? '-',
    e.replayed ? 'yes' : 'no',
  ]);
  line(
    io.out,
    table(
      ['partition', 'offset', 'coupon', 'user', 'reason', 'error', 'attempts', 'first failure', 'replayed'],
      rows,
    ),
  );
  line(io.out, `${entries.length} record(s), ${entries.filter((e) => !e.replayed).length} not replayed`);
}
