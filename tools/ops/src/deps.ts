import { type TopicNames, topicNames } from '@coupon/contracts';
import { DbPool } from '@coupon/db';
import { Gate } from '@coupon/gate';
import { createKafka, createRedis, redisTarget, waitForRedis } from '@coupon/kit';
import type { Redis } from 'ioredis';
import type { Admin, Kafka, Producer } from 'kafkajs';
import type { OpsEnv } from './env.js';

/** Where a command writes: tables and summaries to `out`, progress and warnings to `err`. */
export interface Io {
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream & { isTTY?: boolean };
}

/** Everything a subcommand needs; main.ts builds it once, tests build it on the test infrastructure. */
export interface OpsDeps {
  kafka: Kafka;
  admin: Admin;
  redis: Redis;
  pool: DbPool;
  gate: Gate;
  topics: TopicNames;
  /** Consumer group of `dlt replay` on the DLT topic: `<prefix>coupon-dlt-replay`. */
  replayGroup: string;
  io: Io;
  signal?: AbortSignal;
}

export interface OwnedDeps extends OpsDeps {
  close(): Promise<void>;
}

export async function createDeps(env: OpsEnv, io: Io, signal?: AbortSignal): Promise<OwnedDeps> {
  // Commands queue while connecting instead of failing: the CLI waits for Redis once, below.
  const redis = createRedis({ ...redisTarget(env), failFast: false });
  const pool = new DbPool({ url: env.DATABASE_URL, maximumPoolSize: 4, connectionTimeoutMs: 5_000 });
  const kafka = createKafka({ brokers: env.KAFKA_BROKERS, clientId: `${env.KAFKA_CLIENT_ID}-ops` });
  const admin = kafka.admin();
  const close = async () => {
    await Promise.allSettled([admin.disconnect(), redis.quit(), pool.end()]);
  };
  try {
    await Promise.all([waitForRedis(redis, 5_000), admin.connect()]);
  } catch (err) {
    await close();
    throw err;
  }
  const gate = new Gate(redis);
  const topics = topicNames(env.KAFKA_TOPIC_PREFIX);
  return {
    kafka,
    admin,
    redis,
    pool,
    gate,
    topics,
    replayGroup: replayGroupOf(env.KAFKA_TOPIC_PREFIX),
    io,
    signal,
    close,
  };
}

/** Renaming it loses the replay's committed offsets: the next replay re-reads the DLT from the start (safe, slower). */
export function replayGroupOf(prefix: string): string {
  return `${prefix}coupon-dlt-replay`;
}

/** The producer for re-publishing: idempotent, one request in flight, and every send uses acks=all. */
export async function connectProducer(kafka: Kafka): Promise<Producer> {
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
  });
  await producer.connect();
  return producer;
}
