import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { Gate, GateBusyError, ReplicationUnconfirmedError } from './gate.js';
import { ADMIT_CODES } from './scripts.js';

/** A Redis whose pipeline records its commands and answers with canned replies (RESP3: numbers). */
function fakeRedis(replies: Array<[Error | null, unknown]>, delayMs = 0) {
  const sent: string[] = [];
  const pipe = {
    couponAdmitMany(...args: unknown[]) {
      sent.push(`admit ${args[0]} ${args.slice(3).join(',')}`);
      return pipe;
    },
    wait(n: number, ms: number) {
      sent.push(`wait ${n} ${ms}`);
      return pipe;
    },
    exec: async () => {
      await sleep(delayMs);
      return replies;
    },
  };
  const redis = { defineCommand() {}, pipeline: () => pipe } as unknown as Redis;
  return { redis, sent };
}

/** One script reply: the outcome codes of one coupon's users, in order. */
const codes = (...o: Array<keyof typeof ADMIT_CODES>): [null, number[]] => [
  null,
  o.map((x) => ADMIT_CODES[x]),
];
const items = [1, 2, 3].map((userId) => ({ couponId: 5, userId }));

describe('Gate.admitMany', () => {
  it('happy: one script call per coupon, outcomes back in the order of the items', async () => {
    const { redis, sent } = fakeRedis([codes('ISSUED', 'SOLD_OUT'), codes('ALREADY_ISSUED')]);
    const mixed = [
      { couponId: 5, userId: 1 },
      { couponId: 6, userId: 9 },
      { couponId: 5, userId: 2 },
    ];
    expect(await new Gate(redis).admitMany(mixed)).toEqual(['ISSUED', 'ALREADY_ISSUED', 'SOLD_OUT']);
    expect(sent).toEqual(['admit {coupon:5}:meta 1,2', 'admit {coupon:6}:meta 9']);
  });

  it('error: a failed script fails the items of its coupon only', async () => {
    const { redis } = fakeRedis([[new Error('BUSY'), null], codes('ISSUED')]);
    const out = await new Gate(redis).admitMany([
      { couponId: 5, userId: 1 },
      { couponId: 6, userId: 9 },
    ]);
    expect((out[0] as Error).message).toBe('BUSY');
    expect(out[1]).toBe('ISSUED');
  });
});

describe('Gate.admitMany with WAIT', () => {
  it('happy: one WAIT closes the pipeline; enough replicas → outcomes as decided', async () => {
    const { redis, sent } = fakeRedis([codes('ISSUED', 'SOLD_OUT', 'ISSUED'), [null, 1]]);
    const gate = new Gate(redis, {}, { waitReplicas: 1, waitTimeoutMs: 150 });
    expect(await gate.admitMany(items)).toEqual(['ISSUED', 'SOLD_OUT', 'ISSUED']);
    expect(sent).toEqual(['admit {coupon:5}:meta 1,2,3', 'wait 1 150']);
  });

  it('error: fewer replicas than asked → every admission of the batch is ambiguous, the rest stand', async () => {
    const { redis } = fakeRedis([codes('ISSUED', 'ALREADY_ISSUED', 'ISSUED'), [null, 0]]);
    let short = 0;
    const gate = new Gate(redis, { onReplicaWaitShort: (n) => (short += n) }, { waitReplicas: 1 });
    const [a, b, c] = await gate.admitMany(items);
    expect(a).toBeInstanceOf(ReplicationUnconfirmedError);
    expect(b).toBe('ALREADY_ISSUED');
    expect(c).toBe(a);
    expect(short).toBe(2);
  });

  it('error: WAIT itself failing counts as unconfirmed (the script answered: nothing was produced)', async () => {
    const { redis } = fakeRedis([codes('ISSUED', 'SOLD_OUT', 'SOLD_OUT'), [new Error('READONLY'), null]]);
    const out = await new Gate(redis, {}, { waitReplicas: 2 }).admitMany(items);
    expect(out[0]).toBeInstanceOf(ReplicationUnconfirmedError);
    expect(((out[0] as Error).cause as Error).message).toBe('READONLY');
    expect(out.slice(1)).toEqual(['SOLD_OUT', 'SOLD_OUT']);
  });

  it('error: one pipeline per WAIT connection; none free → GateBusyError before anything is sent', async () => {
    const main = fakeRedis([]);
    const own = fakeRedis([codes('ISSUED', 'ISSUED', 'ISSUED'), [null, 1]], 50);
    let busy = 0;
    const gate = new Gate(
      main.redis,
      { onWaitBusy: (n) => (busy += n) },
      { waitReplicas: 1, waitConnections: [own.redis] },
    );
    const first = gate.admitMany(items);
    const second = await gate.admitMany(items);
    expect(second).toEqual([expect.any(GateBusyError), expect.any(GateBusyError), expect.any(GateBusyError)]);
    expect(busy).toBe(3);
    expect(await first).toEqual(['ISSUED', 'ISSUED', 'ISSUED']);
    expect(main.sent).toEqual([]); // the shared connection carries no gate pipeline
    expect(own.sent).toEqual(['admit {coupon:5}:meta 1,2,3', 'wait 1 200']);
    expect(await gate.admitMany(items)).toEqual(['ISSUED', 'ISSUED', 'ISSUED']); // free again
  });

  it('happy: off by default, no WAIT is sent (a single node)', async () => {
    const { redis, sent } = fakeRedis([codes('ISSUED', 'ISSUED', 'ISSUED')]);
    expect(await new Gate(redis).admitMany(items)).toEqual(['ISSUED', 'ISSUED', 'ISSUED']);
    expect(sent).not.toContain(expect.stringMatching(/^wait/));
  });
});
