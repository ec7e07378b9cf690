import type { AddressInfo } from 'node:net';
import { topicNames } from '@coupon/contracts';
import { DbPool, runMigrations } from '@coupon/db';
import {
  closeServer,
  createKafka,
  createLogger,
  createRedis,
  ensureTopics,
  type Logger,
  listen,
  logShipperOf,
  logShipTarget,
  redisTarget,
  Shutdown,
  watchLogShipping,
} from '@coupon/kit';
import { createApp } from './app.js';
import type { PersisterEnv } from './env.js';
import { createPersisterMetrics } from './metrics.js';
import { restartAfterCrash } from './restart.js';
import { BatchWriter } from './writer.js';

export interface RunningPersister {
  port: number;
  pool: DbPool;
  shutdown: Shutdown;
  stop(): Promise<void>;
}

/** After a crash kafkajs does not restart from, the consumer is brought back after this long. */
const CRASH_RESTART_MS = 2_000;

/** Joins the consumer group and writes batches; /health and /ready on PORT. */
export async function startPersister(
  env: PersisterEnv,
  log: Logger = createLogger('persister', env.LOG_LEVEL, logShipTarget(env)),
): Promise<RunningPersister> {
  const topics = topicNames(env.KAFKA_TOPIC_PREFIX);
  if (env.MIGRATE_ON_START) await runMigrations(env.DATABASE_URL);
  const metrics = createPersisterMetrics();
  watchLogShipping(metrics.registry, logShipperOf(log));
  const pool = new DbPool(
    {
      url: env.DATABASE_URL,
      maximumPoolSize: env.DB_POOL_SIZE,
      connectionTimeoutMs: env.DB_CONNECTION_TIMEOUT_MS,
      idleTimeoutMs: env.DB_IDLE_TIMEOUT_MS,
    },
    metrics.pool.hooks,
  );
  metrics.pool.watch(pool);
  const redis = createRedis(redisTarget(env), log);
  const kafka = createKafka(
    { brokers: env.KAFKA_BROKERS, clientId: `${env.KAFKA_CLIENT_ID}-persister` },
    log,
  );
  metrics.watchLag(kafka.admin(), { groupId: topics.persisterGroup, topic: topics.issued });
  await ensureTopics(kafka, [topics.issued, topics.issuedDlt]);

  const dltProducer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
  });
  await dltProducer.connect();

  const consumer = kafka.consumer({
    groupId: topics.persisterGroup,
    sessionTimeout: env.KAFKA_SESSION_TIMEOUT_MS,
    heartbeatInterval: Math.min(3_000, Math.floor(env.KAFKA_SESSION_TIMEOUT_MS / 3)),
    maxWaitTimeInMs: env.FETCH_MAX_WAIT_MS,
    minBytes: env.FETCH_MIN_BYTES,
    allowAutoTopicCreation: false,
  });
  let joined = false;
  consumer.on(consumer.events.GROUP_JOIN, () => {
    joined = true;
  });
  let stopping = false;
  const run = () =>
    consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: env.PARTITIONS_CONCURRENCY,
      eachBatch: writer.handle,
    });
  const crashed = restartAfterCrash({ connect: () => consumer.connect(), run }, log, {
    delayMs: CRASH_RESTART_MS,
    stopped: () => stopping,
    onRestart: () => metrics.consumerRestarted(),
  });
  consumer.on(consumer.events.CRASH, (e) => {
    joined = false;
    log.error({ err: e.payload.error, restart: e.payload.restart }, 'KafkaException: consumer crashed');
    crashed(e.payload.restart);
  });
  consumer.on(consumer.events.STOP, () => {
    joined = false;
  });

  const writer = new BatchWriter({
    pool,
    dltProducer,
    dltTopic: topics.issuedDlt,
    redis,
    log,
    cfg: { insertChunk: env.INSERT_CHUNK, retryMaxBackoffMs: env.RETRY_MAX_BACKOFF_MS },
    hooks: metrics.writer,
  });

  await consumer.connect();
  await consumer.subscribe({ topic: topics.issued, fromBeginning: true });
  await run();

  const shutdown = new Shutdown(log, env.SHUTDOWN_TIMEOUT_MS);
  const app = createApp({
    pool,
    log,
    draining: () => shutdown.draining,
    consumerReady: () => joined,
    registry: metrics.registry,
  });
  const server = await listen(app, env.PORT, env.HOST);
  const port = (server.address() as AddressInfo).port;
  log.info({ port, group: topics.persisterGroup }, 'persister running');

  shutdown
    .add('leave consumer group', () => {
      stopping = true;
      return consumer.disconnect();
    })
    .add('disconnect dlt producer', () => dltProducer.disconnect())
    .add('close http', () => closeServer(server))
    .add('close metrics', () => metrics.close())
    .add('close redis', () => redis.quit())
    .add('close pool', () => pool.end())
    .add('flush logs', () => logShipperOf(log)?.close());
  return { port, pool, shutdown, stop: () => shutdown.run('stop') };
}
