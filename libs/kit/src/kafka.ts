import { type Admin, type ConfigResourceTypes, Kafka, type LogEntry, logLevel } from 'kafkajs';
import type { Logger } from './log.js';

/** ConfigResourceTypes.BROKER: kafkajs's CommonJS export is not visible to ESM named imports. */
const BROKER_RESOURCE = 4 as ConfigResourceTypes;

export interface KafkaConfig {
  brokers: string[];
  clientId: string;
  /** How long one request may wait for the broker (10 s unless given). */
  requestTimeoutMs?: number;
}

/** kafkajs client whose own logs go through pino (errors and warnings only). */
export function createKafka(cfg: KafkaConfig, log?: Logger): Kafka {
  return new Kafka({
    clientId: cfg.clientId,
    brokers: cfg.brokers,
    connectionTimeout: 3_000,
    requestTimeout: cfg.requestTimeoutMs ?? 10_000,
    retry: { initialRetryTime: 100, retries: 5, maxRetryTime: 2_000 },
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ level, log: entry }: LogEntry) => {
        if (!log) return;
        const { message, ...rest } = entry;
        const line = { kafka: rest };
        if (level <= logLevel.ERROR) log.error(line, `KafkaException: ${message}`);
        else log.warn(line, `kafka: ${message}`);
      },
  });
}

/**
 * Creates the topics if they are missing (idempotent). Their replication factor follows the cluster:
 * the brokers' `default.replication.factor` (1 on the single-node stack, 3 on the ha profile's three
 * brokers, whose `min.insync.replicas` then applies too), unless `replicationFactor` is given.
 * kafkajs speaks CreateTopics v3 at most, which cannot ask for the broker's default (-1 needs v4),
 * hence the lookup.
 */
export async function ensureTopics(
  kafka: Kafka,
  topics: string[],
  partitions = 6,
  replicationFactor?: number,
): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter((t) => !existing.has(t));
    if (missing.length > 0) {
      const rf = replicationFactor ?? (await defaultReplicationFactor(admin));
      await admin.createTopics({
        waitForLeaders: false,
        topics: missing.map((topic) => ({ topic, numPartitions: partitions, replicationFactor: rf })),
      });
      await waitForLeaders(admin, missing);
    }
  } finally {
    await admin.disconnect();
  }
}

/**
 * Waits until every partition of the topics has a leader. kafkajs's own `waitForLeaders` gives up on
 * the first answer other than LEADER_NOT_AVAILABLE; on three brokers, one whose metadata has not yet
 * caught up with the new topic answers UNKNOWN_TOPIC_OR_PARTITION (seen: the issuer crashed at start).
 */
async function waitForLeaders(admin: Admin, topics: string[], timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const led = await admin.fetchTopicMetadata({ topics }).then(
      (m) => m.topics.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0)),
      () => false,
    );
    if (led) return;
    if (Date.now() > end)
      throw new Error(`KafkaException: topics ${topics.join(', ')} have no leader after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * The cluster's default.replication.factor, read from one broker. Not capped by the brokers alive:
 * with one of three down, creating a topic fails loudly rather than quietly keeping fewer copies.
 */
export async function defaultReplicationFactor(admin: Admin): Promise<number> {
  const { brokers } = await admin.describeCluster();
  const broker = brokers[0];
  if (!broker) throw new Error('KafkaException: the cluster reports no broker');
  const res = await admin.describeConfigs({
    includeSynonyms: false,
    resources: [
      {
        type: BROKER_RESOURCE,
        name: String(broker.nodeId),
        configNames: ['default.replication.factor'],
      },
    ],
  });
  const value = Number(res.resources[0]?.configEntries[0]?.configValue);
  if (!Number.isInteger(value) || value < 1)
    throw new Error(
      "KafkaException: cannot read the brokers' default.replication.factor to create the topics",
    );
  return value;
}
