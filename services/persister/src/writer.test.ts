import { randomUUID } from 'node:crypto';
import { DLT_HEADERS, REPLAYED_FROM_HEADER } from '@coupon/contracts';
import type { CouponIssue, DbPool, GuardResult, GuardVerdict } from '@coupon/db';
import { createLogger } from '@coupon/kit';
import type { Message } from 'kafkajs';
import { describe, expect, it, vi } from 'vitest';
import { type BatchPayload, BatchWriter, type WriterDeps } from './writer.js';

const log = createLogger('test', 'silent');
const COUPON = 7;

/** A coupon.issued message as the consumer fetches it; userId doubles as the offset. */
function message(userId: number, o: { couponId?: number; replayed?: boolean } = {}) {
  const event = {
    v: 1,
    eventId: randomUUID(),
    couponId: o.couponId ?? COUPON,
    userId,
    issuedAt: Date.now(),
    requestId: `r${userId}`,
  };
  return {
    offset: String(userId),
    key: Buffer.from(String(userId)),
    value: Buffer.from(JSON.stringify(event)),
    headers: o.replayed ? { [REPLAYED_FROM_HEADER]: Buffer.from('dlt/0/1') } : {},
  };
}

type Msg = ReturnType<typeof message>;

/** A fake eachBatch payload of one partition; `alive` says what isRunning / isStale answer. */
function payload(messages: Msg[], alive = () => ({ running: true, stale: false })) {
  const p = {
    batch: {
      topic: 'coupon.issued',
      partition: 3,
      messages,
      lastOffset: () => messages.at(-1)?.offset ?? '-1',
    },
    isRunning: () => alive().running,
    isStale: () => alive().stale,
    heartbeat: vi.fn(async () => undefined),
    resolveOffset: vi.fn(),
    commitOffsetsIfNecessary: vi.fn(async () => undefined),
  };
  return { p, payload: p satisfies BatchPayload };
}

/** A database error as mysql2 raises it (classify in libs/db reads the errno, or the code without one). */
function dbError(code: string, errno?: number): Error {
  return Object.assign(new Error(`${code} from the fake`), { code, errno });
}

const guardResult = (verdicts: GuardVerdict[]): GuardResult => ({
  verdicts,
  inserted: verdicts.filter((v) => v === 'inserted').length,
});

type Insert = (rows: readonly CouponIssue[]) => Promise<GuardResult>;

/** A writer over fakes: the guarded insert, the DLT producer, Redis's counter; hooks recorded. */
function writer(insert: Insert, cfg: Partial<WriterDeps['cfg']> = {}) {
  const sent: Message[][] = [];
  const dltProducer = {
    send: vi.fn(async (r: { messages: Message[] }) => {
      sent.push(r.messages);
      return [];
    }),
  };
  const hooks = {
    onBatch: vi.fn(),
    onRetry: vi.fn(),
    onDlt: vi.fn(),
    onOverQuantity: vi.fn(),
  };
  const fakeInsert = vi.fn((_pool: DbPool, rows: readonly CouponIssue[]) => insert(rows));
  const w = new BatchWriter({
    pool: {} as DbPool,
    dltProducer,
    dltTopic: 'coupon.issued.dlt',
    redis: { incrby: vi.fn(async () => 1) },
    log,
    cfg: { insertChunk: 500, retryMaxBackoffMs: 20, ...cfg },
    hooks,
    insert: fakeInsert,
  });
  return { w, sent, hooks, insert: fakeInsert, dltProducer };
}

const allInserted: Insert = async (rows) => guardResult(rows.map(() => 'inserted'));
const reasons = (sent: Message[][]) =>
  sent.flat().map((m) => String((m.headers as Record<string, string>)[DLT_HEADERS.reason]));
const keys = (sent: Message[][]) => sent.flat().map((m) => String(m.key));

function expectCommittedOnce(p: ReturnType<typeof payload>['p'], last: string) {
  expect(p.resolveOffset).toHaveBeenCalledExactlyOnceWith(last);
  expect(p.commitOffsetsIfNecessary).toHaveBeenCalledTimes(1);
  expect(p.commitOffsetsIfNecessary).toHaveBeenCalledWith({
    topics: [{ topic: 'coupon.issued', partitions: [{ partition: 3, offset: String(Number(last) + 1) }] }],
  });
}

describe('BatchWriter: transient database errors', () => {
  it('happy: a transient error backs off, heartbeats, retries the same batch and commits once', async () => {
    let calls = 0;
    const { w, sent, hooks, insert } = writer(async (rows) => {
      if (++calls === 1) throw dbError('ECONNREFUSED');
      return allInserted(rows);
    });
    const { p, payload: pl } = payload([message(1), message(2), message(3)]);
    await w.handle(pl);

    expect(insert).toHaveBeenCalledTimes(2);
    expect(insert.mock.calls[1]?.[1]).toEqual(insert.mock.calls[0]?.[1]); // the same rows again
    expect(insert.mock.calls[1]?.[1].map((r) => r.userId)).toEqual([1, 2, 3]);
    expect(hooks.onRetry).toHaveBeenCalledTimes(1);
    expect(p.heartbeat).toHaveBeenCalled();
    expect(sent).toHaveLength(0);
    expect(hooks.onDlt).not.toHaveBeenCalled();
    expect(hooks.onBatch).toHaveBeenCalledWith(3, 3, expect.any(Number));
    expectCommittedOnce(p, '3');
  });

  it.each([
    ['isRunning turns false', { running: false, stale: false }],
    ['isStale turns true', { running: true, stale: true }],
  ])('error: an aborted batch (%s mid-retry) returns without committing', async (_, after) => {
    let state = { running: true, stale: false };
    let calls = 0;
    const { w, sent, insert } = writer(async (rows) => {
      if (++calls > 1) return allInserted(rows); // a writer that ignored the abort would commit
      state = after; // the rebalance or shutdown happens while the database is down
      throw dbError('PROTOCOL_CONNECTION_LOST');
    });
    const { p, payload: pl } = payload([message(1), message(2)], () => state);
    await w.handle(pl);

    expect(insert).toHaveBeenCalledTimes(1);
    expect(p.resolveOffset).not.toHaveBeenCalled();
    expect(p.commitOffsetsIfNecessary).not.toHaveBeenCalled();
    expect(sent).toHaveLength(0);
  });
  it.each([
    ['read-only (--read-only)', 'ER_OPTION_PREVENTS_STATEMENT', 1290],
    ['full', 'ER_RECORD_FILE_FULL', 1114],
    ['an error nobody listed', 'ER_NEW_IN_NEXT_RELEASE', 4321],
  ])(
    'error: a %s database backs the whole batch off and retries it; nothing goes to the DLT',
    async (_, code, errno) => {
      let calls = 0;
      const { w, sent, hooks, insert } = writer(async (rows) => {
        if (++calls <= 2) throw dbError(code, errno);
        return allInserted(rows);
      });
      const { p, payload: pl } = payload([message(1), message(2), message(3)]);
      await w.handle(pl);

      expect(insert).toHaveBeenCalledTimes(3); // the batch each time, never row by row
      expect(insert.mock.calls.map((c) => c[1].length)).toEqual([3, 3, 3]);
      expect(hooks.onRetry).toHaveBeenCalledTimes(2);
      expect(sent).toHaveLength(0);
      expect(hooks.onDlt).not.toHaveBeenCalled();
      expect(hooks.onBatch).toHaveBeenCalledWith(3, 3, expect.any(Number));
      expectCommittedOnce(p, '3');
    },
  );
});

describe('BatchWriter: non-retryable errors', () => {
  it('error: a non-retryable error isolates the bad row to the DLT; the others are written', async () => {
    const written: number[] = [];
    const { w, sent, hooks, insert } = writer(async (rows) => {
      if (rows.some((r) => r.couponId === 999)) throw dbError('ER_NO_REFERENCED_ROW_2', 1452);
      written.push(...rows.map((r) => r.userId));
      return allInserted(rows);
    });
    const { p, payload: pl } = payload([message(1), message(2, { couponId: 999 }), message(3)]);
    await w.handle(pl);

    expect(insert).toHaveBeenCalledTimes(4); // the batch, then row by row
    expect(written).toEqual([1, 3]);
    expect(keys(sent)).toEqual(['2']);
    expect(reasons(sent)).toEqual(['NON_RETRYABLE']);
    expect(hooks.onDlt).toHaveBeenCalledExactlyOnceWith(1);
    expect(hooks.onRetry).not.toHaveBeenCalled(); // poison is not retried
    expect(hooks.onBatch).toHaveBeenCalledWith(3, 2, expect.any(Number));
    expectCommittedOnce(p, '3');
  });

  // A batch of events for a coupon that does not exist (seen: a reconcile republishing 700 per
  // partition) is narrowed down in as many transactions, 30–50 s on a loaded machine: without a
  // heartbeat the group evicted the consumer, the commit failed and the batch came back.
  it('error: narrowing a batch down row by row heartbeats between the rows', async () => {
    const { w, sent } = writer(async () => {
      throw dbError('ER_NO_REFERENCED_ROW_2', 1452);
    });
    const { p, payload: pl } = payload([1, 2, 3, 4, 5].map((u) => message(u, { couponId: 999 })));
    await w.handle(pl);

    expect(keys(sent)).toEqual(['1', '2', '3', '4', '5']);
    expect(p.heartbeat.mock.calls.length).toBeGreaterThanOrEqual(5);
    expectCommittedOnce(p, '5');
  });

  it('error: narrowing down stops, uncommitted, once the batch is no longer ours', async () => {
    let state = { running: true, stale: false };
    let calls = 0;
    const { w, sent, insert } = writer(async () => {
      if (++calls === 3) state = { running: true, stale: true }; // a rebalance mid-way
      throw dbError('ER_NO_REFERENCED_ROW_2', 1452);
    });
    const { p, payload: pl } = payload(
      [1, 2, 3, 4, 5].map((u) => message(u, { couponId: 999 })),
      () => state,
    );
    await w.handle(pl);

    expect(insert).toHaveBeenCalledTimes(3); // the batch, then rows 1 and 2
    expect(sent).toHaveLength(0);
    expect(p.commitOffsetsIfNecessary).not.toHaveBeenCalled();
  });
});

describe('BatchWriter: the quantity guard', () => {
  it('error: refused rows go to the DLT as OVER_QUANTITY and are counted', async () => {
    const { w, sent, hooks } = writer(async () => guardResult(['inserted', 'refused', 'refused']));
    const { p, payload: pl } = payload([message(1), message(2), message(3)]);
    await w.handle(pl);

    expect(keys(sent)).toEqual(['2', '3']);
    expect(reasons(sent)).toEqual(['OVER_QUANTITY', 'OVER_QUANTITY']);
    expect(hooks.onOverQuantity).toHaveBeenCalledExactlyOnceWith(2);
    expect(hooks.onDlt).toHaveBeenCalledExactlyOnceWith(2);
    expectCommittedOnce(p, '3');
  });

  it('error: a redelivered refusal (refusedAgain, not a replay) reaches the DLT but is not counted again', async () => {
    const { w, sent, hooks } = writer(async () => guardResult(['refusedAgain']));
    const { p, payload: pl } = payload([message(1)]);
    await w.handle(pl);

    expect(reasons(sent)).toEqual(['OVER_QUANTITY']);
    expect(hooks.onOverQuantity).not.toHaveBeenCalled();
    expectCommittedOnce(p, '1');
  });

  it('happy: a replayed refusal is final: no new DLT entry, not counted, committed', async () => {
    const { w, sent, hooks, dltProducer } = writer(async () => guardResult(['inserted', 'refusedAgain']));
    const { p, payload: pl } = payload([message(1, { replayed: true }), message(2, { replayed: true })]);
    await w.handle(pl);

    expect(dltProducer.send).not.toHaveBeenCalled();
    expect(sent).toHaveLength(0);
    expect(hooks.onOverQuantity).not.toHaveBeenCalled();
    expect(hooks.onDlt).not.toHaveBeenCalled();
    expectCommittedOnce(p, '2');
  });

  it('error: a refusal committed before a later chunk failed is counted and sent once after the retry', async () => {
    // Chunk 1 (user 1) is refused and committed; chunk 2 (user 2) fails transiently; the retry
    // sees user 1 as refusedAgain. It is still this batch's refusal: one DLT entry, counted once.
    let attempt = 0;
    const { w, sent, hooks } = writer(
      async (rows) => {
        const user = rows[0]?.userId;
        if (user === 1) return guardResult([attempt === 0 ? 'refused' : 'refusedAgain']);
        if (attempt++ === 0) throw dbError('ER_LOCK_DEADLOCK');
        return guardResult(['inserted']);
      },
      { insertChunk: 1 },
    );
    const { p, payload: pl } = payload([message(1), message(2)]);
    await w.handle(pl);

    expect(hooks.onRetry).toHaveBeenCalledTimes(1);
    expect(keys(sent)).toEqual(['1']);
    expect(reasons(sent)).toEqual(['OVER_QUANTITY']);
    expect(hooks.onOverQuantity).toHaveBeenCalledExactlyOnceWith(1);
    expectCommittedOnce(p, '2');
  });
});
