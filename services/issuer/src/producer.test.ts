import { setTimeout as sleep } from 'node:timers/promises';
import type { ProducerRecord, RecordMetadata } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import {
  BatchingProducer,
  DeliveryTimeoutError,
  isDefiniteFailure,
  type KafkaSender,
  NotSentError,
} from './producer.js';

/** A stand-in for kafkajs's producer: records each send and settles it as told. */
function fakeProducer(behaviour: (r: ProducerRecord) => Promise<RecordMetadata[]>) {
  const sends: ProducerRecord[] = [];
  const producer: KafkaSender = {
    send: (r) => {
      sends.push(r);
      return behaviour(r);
    },
    disconnect: async () => undefined,
  };
  return { producer, sends };
}

const cfg = { topic: 't', lingerMs: 5, maxBatch: 100, deliveryTimeoutMs: 200, horizonMs: 60_000 };

describe('BatchingProducer', () => {
  it('happy: concurrent sends within the linger become one acks=all batch', async () => {
    const { producer, sends } = fakeProducer(async () => []);
    const p = new BatchingProducer(producer, cfg);
    await Promise.all(Array.from({ length: 50 }, (_, i) => p.send({ key: String(i), value: 'x' })));
    expect(sends).toHaveLength(1);
    expect(sends[0]?.messages).toHaveLength(50);
    expect(sends[0]?.acks).toBe(-1);
  });

  it('edge: stalledMs tells how long the batch in flight has waited, 0 when none is', async () => {
    let release: () => void = () => undefined;
    const { producer } = fakeProducer(() => new Promise((r) => (release = () => r([]))));
    const p = new BatchingProducer(producer, { ...cfg, maxBatch: 1 });
    expect(p.stalledMs).toBe(0);
    const sent = p.send({ value: 'a' });
    await sleep(30);
    expect(p.stalledMs).toBeGreaterThanOrEqual(20);
    release();
    await sent;
    expect(p.stalledMs).toBe(0);
  });

  it('happy: a full batch goes at once, and what arrives meanwhile joins the next', async () => {
    let release: () => void = () => undefined;
    const { producer, sends } = fakeProducer(() => new Promise((r) => (release = () => r([]))));
    const p = new BatchingProducer(producer, { ...cfg, maxBatch: 10 });
    const first = Array.from({ length: 10 }, () => p.send({ value: 'a' }));
    const second = Array.from({ length: 15 }, () => p.send({ value: 'b' }));
    expect(sends).toHaveLength(1); // one in flight at a time
    release();
    await Promise.all(first);
    await sleep(0);
    release();
    await sleep(0);
    release();
    await Promise.all(second);
    expect(sends.map((s) => s.messages.length)).toEqual([10, 10, 5]);
  });

  it('error: every caller of a failed batch is rejected', async () => {
    const { producer } = fakeProducer(async () => {
      throw new Error('boom');
    });
    const p = new BatchingProducer(producer, cfg);
    const results = await Promise.allSettled([p.send({ value: '1' }), p.send({ value: '2' })]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
  });

  it('error: no acknowledgement within the delivery timeout → DeliveryTimeoutError (ambiguous)', async () => {
    const { producer } = fakeProducer(() => new Promise(() => undefined));
    const p = new BatchingProducer(producer, { ...cfg, deliveryTimeoutMs: 50 });
    const err = await p.send({ value: 'x' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DeliveryTimeoutError);
    expect(isDefiniteFailure(err)).toBe(false);
  });

  it('error: a timed-out send holds the next batch until kafkajs ends it (no two sends race for sequence numbers)', async () => {
    let finish: () => void = () => undefined;
    const { producer, sends } = fakeProducer((r) =>
      r.messages[0]?.value === 'stuck' ? new Promise((res) => (finish = () => res([]))) : Promise.resolve([]),
    );
    const p = new BatchingProducer(producer, { ...cfg, lingerMs: 0, maxBatch: 1, deliveryTimeoutMs: 50 });
    const stuck = p.send({ value: 'stuck' }).catch((e: unknown) => e);
    const next = p.send({ value: 'next' });
    expect(await stuck).toBeInstanceOf(DeliveryTimeoutError);
    await sleep(20);
    expect(sends).toHaveLength(1); // 'next' waits: the abandoned send still runs in kafkajs
    expect(p.stalledMs).toBeGreaterThanOrEqual(50);
    finish();
    await next;
    expect(sends.map((s) => s.messages[0]?.value)).toEqual(['stuck', 'next']);
    expect(p.stalledMs).toBe(0);
  });

  it('error: a message queued past the delivery timeout behind an abandoned send is failed as never sent (definite)', async () => {
    const { producer, sends } = fakeProducer(() => new Promise(() => undefined));
    const p = new BatchingProducer(producer, { ...cfg, lingerMs: 0, maxBatch: 1, deliveryTimeoutMs: 50 });
    const first = p.send({ value: 'a' }).catch((e: unknown) => e);
    const queued = p.send({ value: 'b' }).catch((e: unknown) => e);
    expect(await first).toBeInstanceOf(DeliveryTimeoutError);
    const err = await queued;
    expect(err).toBeInstanceOf(NotSentError);
    expect(isDefiniteFailure(err)).toBe(true);
    expect(sends).toHaveLength(1);
  });

  it('error: after a failed send the next batch goes through a renewed producer (new id, sequences from 0)', async () => {
    const first = fakeProducer(async () => {
      throw Object.assign(new Error('The broker received an out of order sequence number'), { code: 45 });
    });
    const second = fakeProducer(async () => []);
    let renewals = 0;
    const p = new BatchingProducer(first.producer, { ...cfg, lingerMs: 0 }, {}, async () => {
      renewals++;
      return second.producer;
    });
    await expect(p.send({ value: 'a' })).rejects.toThrow(/out of order/);
    await p.send({ value: 'b' });
    await p.send({ value: 'c' });
    expect(renewals).toBe(1);
    expect(first.sends.map((s) => s.messages[0]?.value)).toEqual(['a']);
    expect(second.sends.map((s) => s.messages[0]?.value)).toEqual(['b', 'c']);
  });

  it('error: no renewed producer to be had → the batch fails as never sent (definite), the next batch tries again', async () => {
    const first = fakeProducer(async () => {
      throw new Error('Connection error');
    });
    const second = fakeProducer(async () => []);
    let renewals = 0;
    const p = new BatchingProducer(first.producer, { ...cfg, lingerMs: 0 }, {}, async () => {
      if (++renewals === 1) throw new Error('Connection refused');
      return second.producer;
    });
    await expect(p.send({ value: 'a' })).rejects.toThrow(/Connection error/);
    const err = await p.send({ value: 'b' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotSentError);
    expect(isDefiniteFailure(err)).toBe(true);
    await p.send({ value: 'c' });
    expect(renewals).toBe(2);
    expect(second.sends.map((s) => s.messages[0]?.value)).toEqual(['c']);
  });

  it('error: an abandoned send still running at the horizon is cut (producer disconnected), a fresh producer takes the next batch', async () => {
    let disconnected = 0;
    const stuck = fakeProducer(() => new Promise(() => undefined));
    (stuck.producer as { disconnect: () => Promise<void> }).disconnect = async () => {
      disconnected++;
    };
    const fresh = fakeProducer(async () => []);
    let cuts = 0;
    const p = new BatchingProducer(
      stuck.producer,
      { ...cfg, lingerMs: 0, maxBatch: 1, deliveryTimeoutMs: 50, horizonMs: 300 },
      {
        onCut: (n) => {
          cuts += n;
        },
      },
      async () => fresh.producer,
    );
    const t0 = performance.now();
    expect(await p.send({ value: 'a' }).catch((e: unknown) => e)).toBeInstanceOf(DeliveryTimeoutError);
    await p.drainedBefore(performance.now());
    const drainedAfter = performance.now() - t0;
    expect(drainedAfter).toBeGreaterThanOrEqual(290);
    expect(drainedAfter).toBeLessThan(1_000);
    expect(disconnected).toBeGreaterThanOrEqual(1);
    expect(cuts).toBe(1);
    await p.send({ value: 'b' });
    expect(fresh.sends.map((s) => s.messages[0]?.value)).toEqual(['b']);
  });

  it('edge: drainedBefore waits for a send that resolves late, and ignores messages queued after the mark', async () => {
    let finish: () => void = () => undefined;
    const { producer } = fakeProducer((r) =>
      r.messages[0]?.value === 'late' ? new Promise((res) => (finish = () => res([]))) : Promise.resolve([]),
    );
    const p = new BatchingProducer(producer, { ...cfg, lingerMs: 0, maxBatch: 1, deliveryTimeoutMs: 50 });
    const late = p.send({ value: 'late' }).catch((e: unknown) => e);
    const mark = performance.now();
    await sleep(1);
    void p.send({ value: 'after' }).catch(() => undefined);
    let drained = false;
    const d = p.drainedBefore(mark, 5).then(() => (drained = true));
    expect(await late).toBeInstanceOf(DeliveryTimeoutError);
    await sleep(100);
    expect(drained).toBe(false); // callers answered, but kafkajs still runs the send
    finish();
    await d;
    expect(drained).toBe(true);
  });

  it('happy: flush waits for queued messages', async () => {
    const { producer, sends } = fakeProducer(async () => []);
    const p = new BatchingProducer(producer, { ...cfg, lingerMs: 1_000 });
    const pending = p.send({ value: 'x' });
    await p.flush();
    await pending;
    expect(sends).toHaveLength(1);
  });
});

describe('isDefiniteFailure: release the slot only when the event surely is not in Kafka', () => {
  it('a non-retriable broker rejection is ambiguous: it is per partition, a send spans several', () => {
    const err = Object.assign(new Error('The broker received an out of order sequence number'), {
      name: 'KafkaJSProtocolError',
      retriable: false,
      code: 45,
    });
    expect(isDefiniteFailure(err)).toBe(false);
  });

  it('"not connected" met on a retry is ambiguous: an earlier attempt may have written the batch', () => {
    const retries = Object.assign(new Error('retries exceeded'), {
      name: 'KafkaJSNumberOfRetriesExceeded',
      originalError: new Error('Connection not connected'),
    });
    expect(isDefiniteFailure(retries)).toBe(false);
  });

  it('a disconnected producer (nothing sent) is definite', () => {
    expect(isDefiniteFailure(new Error('The producer is disconnected'))).toBe(true);
  });

  it('timeouts and lost connections, even wrapped in retries, are ambiguous', () => {
    const timeout = Object.assign(new Error('Request Produce timed out'), {
      name: 'KafkaJSRequestTimeoutError',
    });
    const retries = Object.assign(new Error('retries exceeded'), {
      name: 'KafkaJSNumberOfRetriesExceeded',
      originalError: timeout,
    });
    expect(isDefiniteFailure(retries)).toBe(false);
    const lost = Object.assign(new Error('Connection closed'), {
      name: 'KafkaJSConnectionClosedError',
      retriable: true,
    });
    expect(isDefiniteFailure(lost)).toBe(false);
  });
});
