import {
  boolish,
  commonEnv,
  databaseEnv,
  devTokensOnlyOnLoopback,
  kafkaEnv,
  parseEnv,
  REDIS_COMMAND_TIMEOUT_MS,
  redisEnv,
  tokenEnv,
} from '@coupon/kit';
import { z } from 'zod';

const variables = z.object({
  ...commonEnv,
  ...redisEnv,
  ...kafkaEnv,
  ...databaseEnv,
  ...tokenEnv,
  /** Port of the internal HTTP API. */
  PORT: z.coerce.number().int().min(0).max(65535).default(3001),
  /**
   * Interface to listen on. Internal service: loopback unless told otherwise; beyond loopback
   * INTERNAL_TOKEN must be a secret of your own (the development token is refused).
   */
  HOST: z.string().default('127.0.0.1'),
  /** Gather concurrent produces for up to this long into one batch (kafkajs has no linger.ms). */
  PRODUCER_LINGER_MS: z.coerce.number().min(0).max(100).default(2),
  /** Largest batch sent at once. */
  PRODUCER_MAX_BATCH: z.coerce.number().int().min(1).max(10_000).default(1_000),
  /** Wait this long for the broker's acknowledgement; past it the outcome is unknown (503, slot kept). */
  PRODUCER_DELIVERY_TIMEOUT_MS: z.coerce.number().int().min(100).default(5_000),
  /**
   * Stop admitting (503) while the batch in flight has waited this long for the broker's
   * acknowledgement: slots taken then would mostly end as 503s after the delivery timeout.
   */
  PRODUCER_STALL_MS: z.coerce.number().int().min(10).default(1_000),
  /**
   * After each gate pipeline, WAIT until this many replicas have its writes before producing and
   * answering (Redis with replicas under Sentinel). 0: off, for a single Redis node.
   */
  REDIS_WAIT_REPLICAS: z.coerce.number().int().min(0).max(16).default(0),
  /**
   * How long that WAIT may block its connection, once per batch. Fewer replicas by then: nothing of
   * the batch is produced, its slots are released and the requests answered 503 (try again). Kept
   * below the Redis client's command timeout with room for the scripts, or the pipeline would time
   * out in the client while it still runs on the server.
   */
  REDIS_WAIT_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(1)
    .max(REDIS_COMMAND_TIMEOUT_MS / 2, {
      message: `must stay below half the Redis command timeout (${REDIS_COMMAND_TIMEOUT_MS} ms)`,
    })
    .default(200),
  /**
   * With REDIS_WAIT_REPLICAS > 0: connections of their own for the gate pipelines, one pipeline per
   * connection at a time so none queues behind another's WAIT; when all are waiting a batch is
   * refused (503, nothing sent, no slot taken). Unused on a single node (one shared connection).
   */
  REDIS_WAIT_CONNECTIONS: z.coerce.number().int().min(1).max(64).default(8),
  /** Pool for admin and status reads (writes happen in the persister). */
  DB_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(5),
  /** HikariCP connectionTimeout for that pool. */
  DB_CONNECTION_TIMEOUT_MS: z.coerce.number().int().min(10).default(1_000),
  /**
   * How often the automatic reconcile runs a round (ms): every coupon served within
   * RECONCILE_ACTIVE_HOURS is compared, under its lock, one instance at a time. 0: off.
   */
  RECONCILE_INTERVAL_MS: z.coerce.number().int().min(0).default(10_000),
  /**
   * An admitted user with no row, no refusal and no event in flight is republished only this long
   * after a round first saw the admission. Must exceed how long an admitted event can still land in
   * Kafka (the producer's retries included) plus the persister's lag.
   */
  RECONCILE_GRACE_MS: z.coerce.number().int().min(0).default(60_000),
  /** Coupons any issuer served within this many hours are reconciled; older ones are left alone. */
  RECONCILE_ACTIVE_HOURS: z.coerce.number().positive().default(6),
  /** Apply database migrations at start (under a named lock). */
  MIGRATE_ON_START: boolish.default(true),
});

/** Parsed once at start-up: beyond loopback (HOST) the development tokens are refused, naming the variable. */
export const issuerEnv = variables.superRefine(devTokensOnlyOnLoopback(['INTERNAL_TOKEN']));

export type IssuerEnv = z.infer<typeof issuerEnv>;

export function loadEnv(source: NodeJS.ProcessEnv = process.env): IssuerEnv {
  return parseEnv(issuerEnv, source);
}
