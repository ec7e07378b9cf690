import { boolish, commonEnv, databaseEnv, kafkaEnv, parseEnv, redisEnv } from '@coupon/kit';
import { z } from 'zod';

export const persisterEnv = z.object({
  ...commonEnv,
  ...redisEnv,
  ...kafkaEnv,
  ...databaseEnv,
  /** Port of /health, /ready (and /metrics). */
  PORT: z.coerce.number().int().min(0).max(65535).default(3002),
  /** Interface to listen on. */
  HOST: z.string().default('127.0.0.1'),
  /** HikariCP maximumPoolSize (the seed ran with 3 and recommends 30+). */
  DB_POOL_SIZE: z.coerce.number().int().min(1).max(500).default(30),
  /** HikariCP connectionTimeout: acquisition fails fast after this long, and the batch is retried. */
  DB_CONNECTION_TIMEOUT_MS: z.coerce.number().int().min(10).default(1_000),
  /** HikariCP idleTimeout. */
  DB_IDLE_TIMEOUT_MS: z.coerce.number().int().min(1_000).default(60_000),
  /** Rows per INSERT statement. */
  INSERT_CHUNK: z.coerce.number().int().min(1).max(10_000).default(1_000),
  /** Partitions processed at once by this instance. */
  PARTITIONS_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(3),
  /** Broker waits up to this long to fill fetch.min.bytes (seed: raise fetch.min.bytes from 1). */
  FETCH_MAX_WAIT_MS: z.coerce.number().int().min(0).default(50),
  /** Smallest fetch the broker answers with before FETCH_MAX_WAIT_MS runs out (fetch.min.bytes). */
  FETCH_MIN_BYTES: z.coerce.number().int().min(1).default(1_024),
  /**
   * Kafka session.timeout.ms: how long the group waits for a silent member before giving its partitions
   * to another persister. Lower means a faster takeover after a crash; the back-off loop heartbeats.
   */
  KAFKA_SESSION_TIMEOUT_MS: z.coerce.number().int().min(6_000).max(300_000).default(10_000),
  /** Upper bound of the back-off between retries of a transient failure (the consumer stays in the group). */
  RETRY_MAX_BACKOFF_MS: z.coerce.number().int().min(10).default(5_000),
  /** Apply database migrations at start (under a named lock). */
  MIGRATE_ON_START: boolish.default(true),
});

export type PersisterEnv = z.infer<typeof persisterEnv>;

export function loadEnv(source: NodeJS.ProcessEnv = process.env): PersisterEnv {
  return parseEnv(persisterEnv, source);
}
