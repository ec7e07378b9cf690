import { Kafka, type LogEntry, logLevel } from 'kafkajs';
import type { Logger } from './log.js';

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

/** Creates the topics if they are missing (idempotent). */
export async function ensureTopics(
  kafka: Kafka,
  topics: string[],
  partitions = 6,
  replicationFactor = 1,
): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter((t) => !existing.has(t));
    if (missing.length > 0) {
      await admin.createTopics({
        waitForLeaders: true,
        topics: missing.map((topic) => ({ topic, numPartitions: partitions, replicationFactor })),
      });
    }
  } finally {
    await admin.disconnect();
  }
}
