import { createKafka } from '@coupon/kit';
import { afterAll, describe, expect, it } from 'vitest';
import { sleep } from '../support/index.js';
import { infra } from './harness.js';

// patches/kafkajs@2.2.4.patch: a producer disconnected while a send retries writes nothing more
// (unpatched, the retrier reconnects the cluster and sends the batch again), so the issuer can cut
// a send at the producer's horizon. A send to a topic that does not exist yet retries
// (UNKNOWN_TOPIC_OR_PARTITION, nothing written); once the producer is disconnected the topic is
// created, so any further attempt would land.
const kafka = createKafka({ brokers: infra().KAFKA_BROKERS.split(','), clientId: 'kafkajs-patch-test' });
const admin = kafka.admin();
afterAll(() => admin.disconnect());

describe('kafkajs, as patched: a disconnect ends a retrying send', () => {
  it('error: disconnected mid-retries → the send ends, and no later attempt writes the batch', async () => {
    await admin.connect();
    const topic = `${infra().KAFKA_TOPIC_PREFIX}kafkajs-cut-${Date.now()}`;
    const producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      retry: { initialRetryTime: 300, maxRetryTime: 1_000, retries: 15 },
    });
    await producer.connect();
    const send = producer.send({ topic, acks: -1, messages: [{ value: 'abandoned' }] }).then(
      () => 'written' as const,
      (err: Error) => err,
    );
    await sleep(1_500); // a few attempts, the topic still missing
    await producer.disconnect();
    // From now on an attempt would be appended.
    await admin.createTopics({
      waitForLeaders: true,
      topics: [{ topic, numPartitions: 1, replicationFactor: 1 }],
    });
    const outcome = await send;
    expect(outcome).toBeInstanceOf(Error);
    expect((outcome as Error).message).toMatch(/disconnected/);
    await sleep(2_000);
    const [p] = await admin.fetchTopicOffsets(topic);
    expect(p?.high).toBe('0');
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
  });
});
