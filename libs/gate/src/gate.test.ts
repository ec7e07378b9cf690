import type { IssueOutcome } from '@coupon/contracts';
import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { ADMIT_OUTCOMES, Gate, ReplicationUnconfirmedError } from './gate.js';

/** A Redis whose pipeline records its commands and answers with canned replies (RESP3: numbers). */
function fakeRedis(replies: Array<[Error | null, unknown]>) {
  const sent: string[] = [];
  const pipe = {
    couponAdmit(...args: unknown[]) {
      sent.push(`admit ${args[3]}`);
      return pipe;
    },
    wait(n: number, ms: number) {
      sent.push(`wait ${n} ${ms}`);
      return pipe;
    },
    exec: async () => replies,
  };
  const redis = { defineCommand() {}, pipeline: () => pipe } as unknown as Redis;
  return { redis, sent };
}

const code = (o: IssueOutcome): [null, number] => [null, ADMIT_OUTCOMES.indexOf(o)];
const items = [1, 2, 3].map((userId) => ({ couponId: 5, userId }));

describe('Gate.admitMany with WAIT', () => {
  it('happy: one WAIT closes the pipeline; enough replicas → outcomes as decided', async () => {
    const { redis, sent } = fakeRedis([code('ISSUED'), code('SOLD_OUT'), code('ISSUED'), [null, 1]]);
    const gate = new Gate(redis, {}, { waitReplicas: 1, waitTimeoutMs: 150 });
    expect(await gate.admitMany(items)).toEqual(['ISSUED', 'SOLD_OUT', 'ISSUED']);
    expect(sent).toEqual(['admit 1', 'admit 2', 'admit 3', 'wait 1 150']);
  });

  it('error: fewer replicas than asked → every admission of the batch is ambiguous, the rest stand', async () => {
    const { redis } = fakeRedis([code('ISSUED'), code('ALREADY_ISSUED'), code('ISSUED'), [null, 0]]);
    let short = 0;
    const gate = new Gate(redis, { onReplicaWaitShort: (n) => (short += n) }, { waitReplicas: 1 });
    const [a, b, c] = await gate.admitMany(items);
    expect(a).toBeInstanceOf(ReplicationUnconfirmedError);
    expect(b).toBe('ALREADY_ISSUED');
    expect(c).toBe(a);
    expect(short).toBe(2);
  });

  it('error: WAIT itself failing counts as unconfirmed', async () => {
    const { redis } = fakeRedis([
      code('ISSUED'),
      code('SOLD_OUT'),
      code('SOLD_OUT'),
      [new Error('READONLY'), null],
    ]);
    const out = await new Gate(redis, {}, { waitReplicas: 2 }).admitMany(items);
    expect((out[0] as Error).message).toBe('READONLY');
    expect(out.slice(1)).toEqual(['SOLD_OUT', 'SOLD_OUT']);
  });

  it('happy: off by default, no WAIT is sent (a single node)', async () => {
    const { redis, sent } = fakeRedis([code('ISSUED'), code('ISSUED'), code('ISSUED')]);
    expect(await new Gate(redis).admitMany(items)).toEqual(['ISSUED', 'ISSUED', 'ISSUED']);
    expect(sent).not.toContain(expect.stringMatching(/^wait/));
  });
});
