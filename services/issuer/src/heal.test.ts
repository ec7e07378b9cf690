import { setTimeout as sleep } from 'node:timers/promises';
import { GateLockedError, GatePresentError, type RebuildResult } from '@coupon/gate';
import { createLogger } from '@coupon/kit';
import { describe, expect, it } from 'vitest';
import { GateHealer, type HealerDeps } from './heal.js';
import { BatchingProducer, type KafkaSender } from './producer.js';

const log = createLogger('test', 'silent');
const result = (couponId: number): RebuildResult => ({
  couponId,
  dryRun: false,
  quantity: 10,
  persisted: 4,
  inFlight: 1,
  inDlt: 0,
  kept: 0,
  admitted: 5,
  remaining: 5,
});

/** A healer whose rebuild answers from a script of outcomes, recording when each call came. */
function healer(script: Array<'ok' | 'locked' | 'present' | Error>, o: Partial<HealerDeps> = {}) {
  const calls: number[] = [];
  const counted: boolean[] = [];
  const t0 = Date.now();
  const h = new GateHealer({
    settleMs: 100,
    retryMs: 20,
    log,
    hooks: { onRebuild: (ok) => counted.push(ok) },
    rebuild: async (couponId) => {
      calls.push(Date.now() - t0);
      const next = script.shift() ?? 'ok';
      if (next === 'locked') throw new GateLockedError(couponId);
      if (next === 'present') throw new GatePresentError(couponId);
      if (next instanceof Error) throw next;
      return result(couponId);
    },
    ...o,
  });
  return { h, calls, counted };
}

const settled = (h: GateHealer, id: number) =>
  expect.poll(() => h.healing(id), { timeout: 4_000, interval: 5 }).toBe(false);

describe('GateHealer', () => {
  it('happy: waits the settle time before reading, rebuilds once however many requests saw the loss', async () => {
    const { h, calls, counted } = healer(['ok']);
    h.gateLost(7);
    h.gateLost(7);
    expect(h.healing(7)).toBe(true);
    expect(h.healing(8)).toBe(false);
    await settled(h, 7);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toBeGreaterThanOrEqual(95);
    expect(counted).toEqual([true]);
  });

  it('error: lock held elsewhere → keeps healing (503s) and retries; done once the other holder rebuilt it', async () => {
    const { h, calls, counted } = healer(['locked', 'locked', 'present']);
    h.gateLost(7);
    await sleep(110);
    expect(h.healing(7)).toBe(true);
    await settled(h, 7);
    expect(calls).toHaveLength(3);
    expect(counted).toEqual([]); // not ours: no rebuild counted
  });

  it('error: a failed rebuild is counted and retried until it succeeds', async () => {
    const { h, calls, counted } = healer([new Error('kafka down'), 'ok']);
    h.gateLost(7);
    await settled(h, 7);
    expect(calls).toHaveLength(2);
    expect(counted).toEqual([false, true]);
  });

  it('error: a send held past the old wait (delivery timeout + margin): the rebuild reads only after it ended', async () => {
    // kafkajs keeps retrying a send whose callers were answered at the delivery timeout.
    let finish: () => void = () => undefined;
    let endedAt = Number.POSITIVE_INFINITY;
    const kafkajs: KafkaSender = {
      send: () =>
        new Promise((res) => {
          finish = () => {
            endedAt = Date.now();
            res([]);
          };
        }),
      disconnect: async () => undefined,
    };
    const producer = new BatchingProducer(kafkajs, {
      topic: 't',
      lingerMs: 0,
      maxBatch: 10,
      deliveryTimeoutMs: 50,
      horizonMs: 5_000,
    });
    void producer.send({ value: 'admitted before the loss' }).catch(() => undefined);
    const t0 = Date.now();
    const { h, calls } = healer(['ok'], {
      settleMs: 150,
      drained: (since) => producer.drainedBefore(since, 5),
    });
    h.gateLost(7);
    setTimeout(() => finish(), 400);
    await settled(h, 7);
    expect(calls).toHaveLength(1);
    expect(t0 + (calls[0] ?? 0)).toBeGreaterThanOrEqual(endedAt);
  });

  it('error: the gate came back while the heal retried → the heal stops; a later loss is a new heal with a full wait', async () => {
    const { h, calls } = healer(['locked', 'ok', 'ok'], { settleMs: 100, retryMs: 50 });
    h.gateLost(7);
    await sleep(120); // first attempt: locked (another holder rebuilds)
    h.sawGate(7); // the other holder's gate decided a request of ours; then it is lost again
    await settled(h, 7);
    expect(calls).toHaveLength(1); // no second attempt without a fresh wait
    const again = Date.now();
    h.gateLost(7);
    await settled(h, 7);
    expect(calls).toHaveLength(2);
    expect(Date.now() - again).toBeGreaterThanOrEqual(95);
  });

  it('happy: stop abandons the wait; no rebuild afterwards, no new healing', async () => {
    const { h, calls } = healer(['ok'], { settleMs: 10_000 });
    h.gateLost(7);
    await h.stop();
    expect(h.healing(7)).toBe(false);
    h.gateLost(8);
    expect(h.healing(8)).toBe(false);
    expect(calls).toHaveLength(0);
  });
});
