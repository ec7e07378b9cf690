import { commonEnv, databaseEnv, kafkaEnv, parseEnv, redisEnv } from '@coupon/kit';
import { z } from 'zod';

/**
 * The same variables as the services, under the same names and developer defaults: REDIS_URL
 * (REDIS_SENTINELS and REDIS_SENTINEL_MASTER to find the primary through Sentinel),
 * DATABASE_URL, KAFKA_BROKERS, KAFKA_TOPIC_PREFIX (and KAFKA_CLIENT_ID, LOG_LEVEL,
 * SHUTDOWN_TIMEOUT_MS, which bounds how long closing the clients may take).
 */
export const opsEnv = z.object({
  ...commonEnv,
  ...redisEnv,
  ...kafkaEnv,
  ...databaseEnv,
});

export type OpsEnv = z.infer<typeof opsEnv>;

export function loadEnv(source: NodeJS.ProcessEnv = process.env): OpsEnv {
  return parseEnv(opsEnv, source);
}
