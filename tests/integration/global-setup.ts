import { ensureDatabase, runMigrations } from '@coupon/db';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    infra: { REDIS_URL: string; DATABASE_URL: string; KAFKA_BROKERS: string; KAFKA_TOPIC_PREFIX: string };
  }
}

/**
 * Runs once before the integration suite: a database of its own (migrated like production) and a
 * topic prefix of its own per run, so tests never read a running system's events or rows.
 */
export default async function setup(project: TestProject): Promise<void> {
  const base = new URL(process.env.DATABASE_URL ?? 'mysql://coupon:coupon@127.0.0.1:3307/coupon');
  base.pathname = `/${process.env.TEST_DATABASE ?? 'coupon_test'}`;
  const DATABASE_URL = base.toString();
  await ensureDatabase(DATABASE_URL);
  await runMigrations(DATABASE_URL);
  project.provide('infra', {
    REDIS_URL: testRedisUrl(process.env.REDIS_URL ?? 'redis://127.0.0.1:6380'),
    DATABASE_URL,
    KAFKA_BROKERS: process.env.KAFKA_BROKERS ?? '127.0.0.1:9092',
    KAFKA_TOPIC_PREFIX: `test-${Date.now().toString(36)}.`,
  });
}

/**
 * The test database numbers coupons from 1 like a running system's does, and gate keys are named by
 * coupon id: tests use Redis logical database 1 so they never touch a running system's gates.
 */
function testRedisUrl(url: string): string {
  const u = new URL(url);
  u.pathname = `/${process.env.TEST_REDIS_DB ?? '1'}`;
  return u.toString();
}
