import { setTimeout as sleep } from 'node:timers/promises';
import { isReplayed } from '@coupon/contracts';
import { classify, type DbPool, describeFailure, type GuardResult, insertIssuesGuarded } from '@coupon/db';
import { backoffMs, type Logger } from '@coupon/kit';
import type { Redis } from 'ioredis';
import type { Batch, EachBatchPayload, Producer } from 'kafkajs';
import { decode, type RawMessage, toRow } from './decode.js';
import { type DltEntry, sendToDlt } from './dlt.js';

export interface WriterConfig {
  insertChunk: number;
  retryMaxBackoffMs: number;
}

export interface WriterHooks {
  onBatch?(size: number, inserted: number, ms: number): void;
  onRetry?(err: unknown): void;
  onDlt?(n: number): void;
  /** Rows MySQL's quantity guard refused for the first time (each also went to the DLT). */
  onOverQuantity?(n: number): void;
  /** Milliseconds from the event's admission to the row's commit, per event. */
  onEventLatency?(ms: number): void;
}

export interface WriterDeps {
  pool: DbPool;
  dltProducer: Pick<Producer, 'send'>;
  dltTopic: string;
  /** The DLT's per-coupon counters. */
  redis: Pick<Redis, 'incrby'>;
  log: Logger;
  cfg: WriterConfig;
  hooks?: WriterHooks;
  /** The guarded insert (libs/db); tests pass a fake. Defaults to insertIssuesGuarded. */
  insert?: typeof insertIssuesGuarded;
}

type Row = { message: RawMessage; row: ReturnType<typeof toRow> };

/** What the writer reads of kafkajs's eachBatch payload: one partition's messages, liveness, the commit. */
export type BatchPayload = Pick<
  EachBatchPayload,
  'isRunning' | 'isStale' | 'heartbeat' | 'resolveOffset' | 'commitOffsetsIfNecessary'
> & { batch: Pick<Batch, 'topic' | 'partition' | 'lastOffset'> & { messages: RawMessage[] } };

interface Persisted {
  inserted: number;
  poison: DltEntry[];
  /** Refused by the quantity guard for the first time: DLT'd and counted. */
  overQuantity: number;
  /** DLT replays the guard refused again: already in the DLT once, not sent or counted again. */
  replayRefused: number;
}

/**
 * Handles one fetched batch of one partition: poison to the DLT, valid events inserted in chunks,
 * then the offset committed. A failed write is judged by `classify` (libs/db): every failure but one
 * about the rows' data backs off and retries the same batch for as long as it takes (heartbeating,
 * so the consumer stays in its group): an outage, a read-only or full database never empties the
 * topic into the DLT. A data failure is narrowed down row by row and only those rows go to the DLT.
 */
export class BatchWriter {
  constructor(private readonly deps: WriterDeps) {}

  handle = async (p: BatchPayload): Promise<void> => {
    const { batch } = p;
    if (batch.messages.length === 0) return;
    const t0 = performance.now();
    const { events, poison } = decode(batch.messages);
    const now = new Date();
    const dlt: DltEntry[] = poison.map((x) => ({ ...x, attempts: 1, firstFailureAt: now }));
    const rows: Row[] = events.map((e) => ({ message: e.message, row: toRow(e.event) }));

    const outcome = await this.persist(rows, p);
    if (outcome === 'aborted') return; // rebalance or shutdown: not committed, redelivered later
    dlt.push(...outcome.poison);

    if (dlt.length > 0) {
      await sendToDlt(
        this.deps.dltProducer,
        this.deps.dltTopic,
        this.deps.redis,
        { topic: batch.topic, partition: batch.partition },
        dlt,
      );
      this.deps.hooks?.onDlt?.(dlt.length);
      if (outcome.overQuantity > 0) this.deps.hooks?.onOverQuantity?.(outcome.overQuantity);
      this.deps.log.warn(
        {
          topic: batch.topic,
          partition: batch.partition,
          dlt: dlt.map((d) => ({ offset: d.message.offset, reason: d.reason, error: d.error })),
        },
        'events sent to the DLT',
      );
    }

    const last = batch.lastOffset();
    p.resolveOffset(last);
    await p.commitOffsetsIfNecessary({
      topics: [
        {
          topic: batch.topic,
          partitions: [{ partition: batch.partition, offset: (BigInt(last) + 1n).toString() }],
        },
      ],
    });
    const committedAt = Date.now();
    for (const e of events) this.deps.hooks?.onEventLatency?.(committedAt - e.event.issuedAt);
    const ms = performance.now() - t0;
    this.deps.hooks?.onBatch?.(batch.messages.length, outcome.inserted, ms);
    this.deps.log.info(
      {
        partition: batch.partition,
        size: batch.messages.length,
        inserted: outcome.inserted,
        dlt: dlt.length,
        overQuantity: outcome.overQuantity,
        replayRefused: outcome.replayRefused,
        ms: Math.round(ms),
        lastOffset: last,
        // the accepted requests' ids, so one request can be followed from the gateway to its row
        requestIds: events.map((e) => e.event.requestId),
      },
      'batch persisted',
    );
  };

  private async persist(rows: Row[], p: BatchPayload): Promise<'aborted' | Persisted> {
    let attempt = 0;
    let firstFailureAt: Date | undefined;
    // Refusals committed by an earlier attempt of this batch whose outcome was lost to a later
    // chunk's failure: the retry sees them as refusedAgain and must still count them, once.
    const refusedHere = new Set<string>();
    for (;;) {
      if (!p.isRunning() || p.isStale()) return 'aborted';
      try {
        return await this.insertAll(rows, p, refusedHere);
      } catch (caught) {
        let err = caught;
        attempt++;
        firstFailureAt ??= new Date();
        if (!classify(err).retry) {
          // isolate() throws only retryable errors: then back off like any other retryable failure.
          try {
            return await this.isolate(rows, p, attempt, firstFailureAt, refusedHere);
          } catch (transient) {
            err = transient;
          }
        }
        this.deps.hooks?.onRetry?.(err);
        const wait = backoffMs(attempt, this.deps.cfg.retryMaxBackoffMs);
        const failure = classify(err);
        this.deps.log.warn(
          {
            partition: p.batch.partition,
            attempt,
            waitMs: wait,
            kind: failure.kind,
            err: describeFailure(failure),
          },
          'database write failed, retrying',
        );
        await this.waitAlive(wait, p);
      }
    }
  }

  private async insertAll(rows: Row[], p: BatchPayload, refusedHere: Set<string>): Promise<Persisted> {
    const out: Persisted = { inserted: 0, poison: [], overQuantity: 0, replayRefused: 0 };
    const chunk = this.deps.cfg.insertChunk;
    for (let i = 0; i < rows.length; i += chunk) {
      const part = rows.slice(i, i + chunk);
      const res = await (this.deps.insert ?? insertIssuesGuarded)(
        this.deps.pool,
        part.map((r) => r.row),
      );
      this.tally(part, res, out, refusedHere, 1, new Date());
      await keepAlive(p);
    }
    return out;
  }

  /**
   * Folds the guard's verdicts into the outcome. A refusal goes to the DLT as OVER_QUANTITY; one the
   * guard had already recorded goes again only when it is not a DLT replay (a redelivery after a
   * crash between the database commit and the DLT publish must still reach the DLT), and is never
   * counted twice. A replayed refusal is final: no new DLT entry, so replays cannot loop.
   */
  private tally(
    rows: Row[],
    res: GuardResult,
    out: Persisted,
    refusedHere: Set<string>,
    attempts: number,
    firstFailureAt: Date,
  ): void {
    out.inserted += res.inserted;
    res.verdicts.forEach((v, i) => {
      const r = rows[i];
      if (!r || v === 'inserted' || v === 'existing') return;
      const pair = `${r.row.couponId}:${r.row.userId}`;
      if (v === 'refused') {
        refusedHere.add(pair);
        out.overQuantity++;
      } else if (refusedHere.has(pair)) out.overQuantity++;
      else if (isReplayed(r.message.headers)) {
        out.replayRefused++;
        return;
      }
      out.poison.push({
        message: r.message,
        reason: 'OVER_QUANTITY',
        error: `coupon ${r.row.couponId}: quantity reached in MySQL; the gate admitted user ${r.row.userId} beyond it`,
        couponId: r.row.couponId,
        attempts,
        firstFailureAt,
      });
    });
  }

  /**
   * One row at a time: rows whose data fails become DLT entries; a retryable error is rethrown.
   * A batch of hundreds of such rows is as many transactions (seen: 30–50 s on a loaded machine), so
   * it heartbeats between rows, or the group evicts the consumer mid-way, the offset commit fails and
   * the batch comes back to be narrowed down again; and it stops when the batch is no longer ours.
   */
  private async isolate(
    rows: Row[],
    p: BatchPayload,
    attempts: number,
    firstFailureAt: Date,
    refusedHere: Set<string>,
  ): Promise<'aborted' | Persisted> {
    const out: Persisted = { inserted: 0, poison: [], overQuantity: 0, replayRefused: 0 };
    for (const r of rows) {
      if (!p.isRunning() || p.isStale()) return 'aborted';
      await keepAlive(p);
      try {
        const res = await (this.deps.insert ?? insertIssuesGuarded)(this.deps.pool, [r.row]);
        this.tally([r], res, out, refusedHere, attempts, firstFailureAt);
      } catch (err) {
        const failure = classify(err);
        if (failure.retry) throw err;
        out.poison.push({
          message: r.message,
          reason: 'NON_RETRYABLE',
          error: describeFailure(failure),
          couponId: r.row.couponId,
          attempts,
          firstFailureAt,
        });
      }
    }
    return out;
  }

  /** Sleeps in slices, heartbeating so the group does not evict us while the database is down. */
  private async waitAlive(ms: number, p: BatchPayload): Promise<void> {
    const until = Date.now() + ms;
    while (Date.now() < until && p.isRunning() && !p.isStale()) {
      await sleep(Math.min(500, until - Date.now()));
      await keepAlive(p);
    }
  }
}

/**
 * A heartbeat between the writes of one batch (kafkajs sends one only when the heartbeat interval
 * has passed, so calling it often costs nothing). A failed heartbeat (a rebalance) is not the write's
 * failure: isRunning / isStale tell the loop to stop.
 */
async function keepAlive(p: Pick<BatchPayload, 'heartbeat'>): Promise<void> {
  await p.heartbeat().catch(() => undefined);
}
