import { TOPICS } from '@coupon/contracts';
import { DbPool, runMigrations } from '@coupon/db';
import { closeServer, createKafka, createLogger, createRedis, ensureTopics, listen, Shutdown } from '@coupon/kit';
import { createApp } from './app.js';
import { loadEnv } from './env.js';
import { Gate } from './gate.js';
import { IssueService } from './issue.js';
import { BatchingProducer } from './producer.js';

const env = loadEnv();
const log = createLogger('issuer', env.LOG_LEVEL);

if (env.MIGRATE_ON_START) await runMigrations(env.DATABASE_URL);
const redis = createRedis({ url: env.REDIS_URL }, log);
const pool = new DbPool({ url: env.DATABASE_URL, maximumPoolSize: env.DB_POOL_SIZE, connectionTimeoutMs: env.DB_CONNECTION_TIMEOUT_MS });
const kafka = createKafka({ brokers: env.KAFKA_BROKERS, clientId: `${env.KAFKA_CLIENT_ID}-issuer` }, log);
await ensureTopics(kafka, [TOPICS.issued, TOPICS.issuedDlt]);

const kafkaProducer = kafka.producer({
  idempotent: true,
  maxInFlightRequests: 1,
  allowAutoTopicCreation: false,
  // Bounded retries (about the delivery timeout) so a dead broker ends a send instead of retrying forever.
  retry: { initialRetryTime: 100, maxRetryTime: 1_000, retries: 6 },
});
let kafkaConnected = false;
kafkaProducer.on(kafkaProducer.events.CONNECT, () => {
  kafkaConnected = true;
});
kafkaProducer.on(kafkaProducer.events.DISCONNECT, () => {
  kafkaConnected = false;
});
await kafkaProducer.connect();

const producer = new BatchingProducer(kafkaProducer, {
  topic: TOPICS.issued,
  lingerMs: env.PRODUCER_LINGER_MS,
  maxBatch: env.PRODUCER_MAX_BATCH,
  deliveryTimeoutMs: env.PRODUCER_DELIVERY_TIMEOUT_MS,
});
const gate = new Gate(redis);
const issues = new IssueService({ gate, producer, pool, log });
const shutdown = new Shutdown(log, env.SHUTDOWN_TIMEOUT_MS);

const app = createApp({
  issues,
  gate,
  pool,
  redis,
  log,
  internalToken: env.INTERNAL_TOKEN,
  draining: () => shutdown.draining,
  kafkaReady: () => kafkaConnected,
});
const server = await listen(app, env.PORT, env.HOST);
log.info({ port: env.PORT, host: env.HOST }, 'issuer listening');

shutdown
  .add('drain http', () => closeServer(server))
  .add('flush producer', () => producer.flush())
  .add('disconnect producer', () => kafkaProducer.disconnect())
  .add('close redis', () => redis.quit())
  .add('close pool', () => pool.end())
  .listen();
