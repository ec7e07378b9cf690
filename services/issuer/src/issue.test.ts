import { setTimeout as sleep } from 'node:timers/promises';
import { AppError, type IssueOutcome, type IssueRequest } from '@coupon/contracts';
import type { Coupon, DbPool } from '@coupon/db';
import { GateBusyError, ReplicationUnconfirmedError } from '@coupon/gate';
import { createLogger } from '@coupon/kit';
import type { Message } from 'kafkajs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CouponUnavailable, IssueService } from './issue.js';
import { DeliveryTimeoutError } from './producer.js';
import { SlotReleaser } from './release.js';

const log = createLogger('test', 'silent');
const req = (userId: number, couponId = 7): IssueRequest => ({ couponId, userId, requestId: `r${userId}` });
const reqs = (n: number, couponId = 7) => Array.from({ length: n }, (_, i) => req(i + 1, couponId));

type Outcome = IssueOutcome | Error;

/** An IssueService over fakes of the gate, the batching producer, the database lookup and the healer. */
function service(
  o: {
    admit?: (r: readonly IssueRequest[]) => Outcome[];
    inDb?: boolean | 'down';
    release?: () => Promise<boolean>;
  } = {},
) {
  const gate = {
    admitMany: vi.fn(async (r: readonly IssueRequest[]) =>
      o.admit ? o.admit(r) : r.map((): Outcome => 'ISSUED'),
    ),
    release: vi.fn(o.release ?? (async () => true)),
  };
  const releaser = new SlotReleaser(gate, {}, { maxQueued: 10, retryMs: 10, maxAgeMs: 60_000 });
  const producer = {
    stalledMs: 0,
    send: vi.fn(async (_m: Message): Promise<void> => undefined),
  };
  const healing = new Set<number>();
  const healer = {
    active: false,
    sawGate: vi.fn(),
    healing: vi.fn((id: number) => healing.has(id)),
    gateLost: vi.fn((id: number) => void healing.add(id)),
  };
  const db = { answer: o.inDb };
  const findCoupon = vi.fn(async (_pool: DbPool, id: number) => {
    if (db.answer === 'down') throw new Error('pool acquisition timed out');
    return db.answer ? ({ id, quantity: 10 } as Coupon) : undefined;
  });
  const s = new IssueService({
    gate,
    producer,
    pool: {} as DbPool,
    log,
    healer,
    releaser,
    stallMs: 1_000,
    findCoupon,
  });
  return { s, gate, producer, healer, findCoupon, db, releaser };
}

/** The item is a 503 (retryable UNAVAILABLE), as the gateway will map it. */
function expect503(x: unknown) {
  expect(x).toBeInstanceOf(AppError);
  expect((x as AppError).status).toBe(503);
  expect((x as AppError).retryable).toBe(true);
}

afterEach(() => vi.useRealTimers());

describe('IssueService: happy path', () => {
  it('happy: admitted items are produced and answered with their event id', async () => {
    const { s, producer, gate } = service({
      admit: (r) => r.map((_, i) => (i === 1 ? 'SOLD_OUT' : 'ISSUED')),
    });
    const out = await s.issueMany(reqs(3));
    expect(out[0]).toMatchObject({ outcome: 'ISSUED', eventId: expect.any(String) });
    expect(out[1]).toEqual({ outcome: 'SOLD_OUT' });
    expect(out[2]).toMatchObject({ outcome: 'ISSUED' });
    expect(producer.send).toHaveBeenCalledTimes(2);
    expect(gate.release).not.toHaveBeenCalled();
  });
});

describe('IssueService: a stalled producer', () => {
  it('error: past stallMs every item is a 503 and the gate is not asked', async () => {
    const { s, producer, gate } = service();
    producer.stalledMs = 1_001;
    const out = await s.issueMany(reqs(3));
    expect(out).toHaveLength(3);
    for (const x of out) expect503(x);
    expect(gate.admitMany).not.toHaveBeenCalled();
    expect(producer.send).not.toHaveBeenCalled();

    producer.stalledMs = 999; // below the bar: admissions go on
    expect(await s.issueMany(reqs(1))).toEqual([expect.objectContaining({ outcome: 'ISSUED' })]);
  });
});

describe('IssueService: after a failed produce', () => {
  it('error: refused during the cooldown, then exactly one batch probes and success reopens', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const { s, producer, gate } = service();
    producer.send.mockRejectedValueOnce(new Error('KafkaJSConnectionError: broker down'));
    expect503((await s.issueMany(reqs(1)))[0]);
    expect(gate.admitMany).toHaveBeenCalledTimes(1);

    vi.advanceTimersByTime(500); // inside the 1 s cooldown: refused without asking the gate
    for (const x of await s.issueMany(reqs(2))) expect503(x);
    expect(gate.admitMany).toHaveBeenCalledTimes(1);

    vi.advanceTimersByTime(501); // cooldown over: two batches arrive together, one probes
    const [probe, other] = await Promise.all([s.issueMany([req(10)]), s.issueMany([req(11)])]);
    expect(probe).toEqual([expect.objectContaining({ outcome: 'ISSUED' })]);
    expect503(other?.[0]);
    expect(gate.admitMany).toHaveBeenCalledTimes(2);
    expect(gate.admitMany.mock.calls[1]?.[0]).toEqual([req(10)]);

    // The probe succeeded: the next batch goes straight through.
    expect(await s.issueMany([req(12)])).toEqual([expect.objectContaining({ outcome: 'ISSUED' })]);
    expect(gate.admitMany).toHaveBeenCalledTimes(3);
  });

  it('error: a definite failure (producer disconnected) releases the slot and answers 503', async () => {
    const { s, producer, gate } = service();
    producer.send.mockRejectedValueOnce(new Error('The producer is disconnected'));
    const [x] = await s.issueMany([req(5)]);
    expect503(x);
    expect(gate.release).toHaveBeenCalledExactlyOnceWith(7, 5);
  });

  it('error: a delivery timeout keeps the slot (no release) and answers 503', async () => {
    const { s, producer, gate } = service();
    producer.send.mockRejectedValueOnce(new DeliveryTimeoutError(5_000));
    const [x] = await s.issueMany([req(5)]);
    expect503(x);
    expect(gate.release).not.toHaveBeenCalled();
  });
});

describe('IssueService: replication not confirmed', () => {
  it('error: a short WAIT makes every admitted item a 503; nothing produced, so each slot is released at once', async () => {
    const short = new ReplicationUnconfirmedError(0, 1);
    const { s, producer, gate } = service({ admit: () => [short, 'SOLD_OUT', short] });
    const out = await s.issueMany(reqs(3));
    expect503(out[0]);
    expect(out[1]).toEqual({ outcome: 'SOLD_OUT' });
    expect503(out[2]);
    expect((out[0] as AppError).cause).toBe(short);
    expect(producer.send).not.toHaveBeenCalled();
    // released before the answer: the user's retry is admitted, not told ALREADY_ISSUED
    expect(gate.release.mock.calls).toEqual([
      [7, 1],
      [7, 3],
    ]);
  });

  it('error: a release Redis refused unsent is retried until Redis answers; one that may have run is not', async () => {
    let redisUp = false;
    const { s, gate, releaser } = service({
      admit: () => [new ReplicationUnconfirmedError(0, 1)],
      release: async () => {
        if (!redisUp) throw new Error("Stream isn't writeable and enableOfflineQueue options is false");
        return true;
      },
    });
    expect503((await s.issueMany([req(4)]))[0]);
    expect(releaser.pending).toBe(1);
    await sleep(30);
    expect(releaser.pending).toBe(1); // still refused: kept
    redisUp = true;
    await expect.poll(() => releaser.pending).toBe(0);
    expect(gate.release).toHaveBeenLastCalledWith(7, 4);

    gate.release.mockRejectedValueOnce(new Error('Command timed out'));
    expect503((await s.issueMany([req(5)]))[0]);
    expect(releaser.pending).toBe(0); // it may have run: never run twice
  });

  it('error: every WAIT connection busy → 503 for the batch, nothing released (no slot was taken)', async () => {
    const { s, gate, producer } = service({ admit: (r) => r.map(() => new GateBusyError()) });
    for (const x of await s.issueMany(reqs(2))) expect503(x);
    expect(producer.send).not.toHaveBeenCalled();
    expect(gate.release).not.toHaveBeenCalled();
  });
});

describe('IssueService: a lost gate', () => {
  it('error: COUPON_NOT_FOUND for a coupon in the database starts the healer once; coupon-scoped 503', async () => {
    const { s, healer, findCoupon, producer } = service({
      admit: (r) => r.map(() => 'COUPON_NOT_FOUND'),
      inDb: true,
    });
    const [first] = await s.issueMany([req(1)]);
    const [second] = await s.issueMany([req(2)]);
    for (const x of [first, second]) {
      expect(x).toBeInstanceOf(CouponUnavailable); // the gateway's breaker ignores this one
      expect503(x);
    }
    expect(healer.gateLost).toHaveBeenCalledExactlyOnceWith(7);
    expect(findCoupon).toHaveBeenCalledTimes(1); // while healing, no database lookup per request
    expect(producer.send).not.toHaveBeenCalled();
  });

  it('happy: COUPON_NOT_FOUND for a coupon the database does not know stays a 404, no healing', async () => {
    const { s, healer } = service({ admit: (r) => r.map(() => 'COUPON_NOT_FOUND'), inDb: false });
    expect(await s.issueMany([req(1)])).toEqual([{ outcome: 'COUPON_NOT_FOUND' }]);
    expect(healer.gateLost).not.toHaveBeenCalled();
  });

  it('error: a lookup that fails is a coupon-scoped 503, not a 404, and is not cached; healing starts once it answers', async () => {
    const { s, healer, findCoupon, db } = service({
      admit: (r) => r.map(() => 'COUPON_NOT_FOUND'),
      inDb: 'down',
    });
    for (const u of [1, 2]) {
      const [x] = await s.issueMany([req(u)]);
      expect(x).toBeInstanceOf(CouponUnavailable);
      expect503(x);
    }
    expect(findCoupon).toHaveBeenCalledTimes(2); // nothing cached: each request asks again
    expect(healer.gateLost).not.toHaveBeenCalled();
    db.answer = true; // the database answers again: the coupon exists, the heal starts at once
    const [x] = await s.issueMany([req(3)]);
    expect503(x);
    expect(healer.gateLost).toHaveBeenCalledExactlyOnceWith(7);
  });
});

describe('IssueService: batches of the same turn', () => {
  it('happy: batches that arrive together (two gateways) share one gate pipeline, each gets its own outcomes', async () => {
    const { s, gate } = service({ admit: (r) => r.map((x) => (x.userId % 2 ? 'ISSUED' : 'SOLD_OUT')) });
    const [a, b] = await Promise.all([s.issueMany([req(1), req(2)]), s.issueMany([req(3), req(4), req(5)])]);
    expect(gate.admitMany).toHaveBeenCalledExactlyOnceWith([req(1), req(2), req(3), req(4), req(5)]);
    expect(a?.map((x) => (x as { outcome: string }).outcome)).toEqual(['ISSUED', 'SOLD_OUT']);
    expect(b?.map((x) => (x as { outcome: string }).outcome)).toEqual(['ISSUED', 'SOLD_OUT', 'ISSUED']);
  });

  it('error: a gate that fails answers every batch of that pipeline 503, and the next turn asks it again', async () => {
    const { s, gate } = service();
    gate.admitMany.mockRejectedValueOnce(new Error('connection lost'));
    const [a, b] = await Promise.all([s.issueMany([req(1)]), s.issueMany([req(2)])]);
    for (const x of [...(a ?? []), ...(b ?? [])]) expect503(x);
    expect(await s.issueMany([req(3)])).toEqual([expect.objectContaining({ outcome: 'ISSUED' })]);
    expect(gate.admitMany).toHaveBeenCalledTimes(2);
  });
});
