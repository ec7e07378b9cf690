import type { AddressInfo } from 'node:net';
import { topicNames } from '@coupon/contracts';
import { DbPool, runMigrations } from '@coupon/db';
import { Gate, rebuildGate } from '@coupon/gate';
import {
  closeServer,
  createKafka,
  createLogger,
  createRedis,
  ensureTopics,
  type Logger,
  listen,
  producerHorizonMs,
  producerTiming,
  redisTarget,
  Shutdown,
} from '@coupon/kit';
import type { Producer } from 'kafkajs';
import { createApp } from './app.js';
import type { IssuerEnv } from './env.js';
import { GateHealer } from './heal.js';
import { IssueService } from './issue.js';
import { createIssuerMetrics } from './metrics.js';
import { BatchingProducer } from './producer.js';
import { Reconciler } from './reconciler.js';
import { SlotReleaser } from './release.js';

/** Beyond the horizon before a heal reads the topics: clock skew between issuers and the gate script's own time. */
const HEAL_MARGIN_MS = 1_000;

export interface RunningIssuer {
  port: number;
  gate: Gate;
  /** The automatic reconcile (its rounds run on their own every RECONCILE_INTERVAL_MS; tests may call round()). */
  reconciler: Reconciler;
  shutdown: Shutdown;
  stop(): Promise<void>;
}

/** Builds clients once, serves the internal API, and registers shutdown steps in order. */
export async function startIssuer(
  env: IssuerEnv,
  log: Logger = createLogger('issuer', env.LOG_LEVEL),
): Promise<RunningIssuer> {
  const topics = topicNames(env.KAFKA_TOPIC_PREFIX);
  if (env.MIGRATE_ON_START) await runMigrations(env.DATABASE_URL);
  const metrics = createIssuerMetrics();
  // An admit script sent just before a connection drop may have run: re-sending it after reconnect would
  // answer ALREADY_ISSUED for the user it just admitted, and no event would be produced. Fail it instead
  // (503, the slot stays taken, reconcile repairs after its grace period).
  const redis = createRedis({ ...redisTarget(env), options: { autoResendUnfulfilledCommands: false } }, log);
  const pool = new DbPool(
    {
      url: env.DATABASE_URL,
      maximumPoolSize: env.DB_POOL_SIZE,
      connectionTimeoutMs: env.DB_CONNECTION_TIMEOUT_MS,
    },
    metrics.pool.hooks,
  );
  metrics.pool.watch(pool);
  // Request timeout and retries come from one place, with the horizon every wait on the sends reads.
  const timing = producerTiming(env.PRODUCER_DELIVERY_TIMEOUT_MS);
  const horizonMs = producerHorizonMs(timing);
  const kafka = createKafka(
    {
      brokers: env.KAFKA_BROKERS,
      clientId: `${env.KAFKA_CLIENT_ID}-issuer`,
      requestTimeoutMs: timing.requestTimeoutMs,
    },
    log,
  );
  await ensureTopics(kafka, [topics.issued, topics.issuedDlt]);

  // One producer at a time; BatchingProducer replaces it (a new producer id) after a failed send.
  let kafkaConnected = false;
  let kafkaProducer: Producer | undefined;
  const connectProducer = async (): Promise<Producer> => {
    const p = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      retry: timing.retry,
    });
    p.on(p.events.CONNECT, () => {
      kafkaConnected = true;
    });
    p.on(p.events.DISCONNECT, () => {
      if (p === kafkaProducer) kafkaConnected = false;
    });
    try {
      await p.connect();
    } catch (err) {
      await p.disconnect().catch(() => undefined);
      throw err;
    }
    return p;
  };
  const firstProducer = await connectProducer();
  kafkaProducer = firstProducer;
  const renewProducer = async (): Promise<Producer> => {
    const p = await connectProducer();
    kafkaProducer = p;
    log.warn('kafka producer renewed after a failed send (new producer id, sequences from 0)');
    return p;
  };

  const producer = new BatchingProducer(
    firstProducer,
    {
      topic: topics.issued,
      lingerMs: env.PRODUCER_LINGER_MS,
      maxBatch: env.PRODUCER_MAX_BATCH,
      deliveryTimeoutMs: env.PRODUCER_DELIVERY_TIMEOUT_MS,
      horizonMs,
    },
    metrics.producer,
    renewProducer,
  );
  // With WAIT, gate pipelines go over connections of their own (see REDIS_WAIT_CONNECTIONS);
  // on a single node they share the one connection.
  const waitConnections =
    env.REDIS_WAIT_REPLICAS > 0
      ? Array.from({ length: env.REDIS_WAIT_CONNECTIONS }, () =>
          createRedis({ ...redisTarget(env), options: { autoResendUnfulfilledCommands: false } }, log),
        )
      : [];
  const gate = new Gate(redis, metrics.gate, {
    waitReplicas: env.REDIS_WAIT_REPLICAS,
    waitTimeoutMs: env.REDIS_WAIT_TIMEOUT_MS,
    waitConnections,
  });
  const releaser = new SlotReleaser(gate, metrics.release, {
    maxQueued: 10_000,
    retryMs: 500,
    maxAgeMs: horizonMs,
  });
  const healer = new GateHealer({
    // Rebuilds are rare: an admin client per rebuild, none held the rest of the time.
    rebuild: async (couponId, signal) => {
      const admin = kafka.admin();
      await admin.connect();
      try {
        return await rebuildGate({ pool, redis, gate, kafka, admin, topics, signal }, { couponId });
      } finally {
        await admin.disconnect().catch(() => undefined);
      }
    },
    // Every issuer's sends holding an admission from before the loss have ended (or been cut) by then.
    settleMs: horizonMs + HEAL_MARGIN_MS,
    drained: (since) => producer.drainedBefore(since),
    gatePresent: async (couponId) => (await gate.state(couponId)) !== undefined,
    log,
    hooks: metrics.heal,
  });
  const reconciler = new Reconciler({
    redis,
    pool,
    kafka,
    topics,
    log,
    intervalMs: env.RECONCILE_INTERVAL_MS,
    // TODO(lead): check RECONCILE_GRACE_MS against the producer's horizon (the heal work's export).
    graceMs: env.RECONCILE_GRACE_MS,
    activeHours: env.RECONCILE_ACTIVE_HOURS,
    hooks: metrics.reconcile,
  });
  const issues = new IssueService({
    gate,
    producer,
    pool,
    log,
    healer,
    releaser,
    stallMs: env.PRODUCER_STALL_MS,
    served: (couponId) => reconciler.served(couponId),
  });
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
    registry: metrics.registry,
  });
  const server = await listen(app, env.PORT, env.HOST);
  const port = (server.address() as AddressInfo).port;
  log.info({ port, host: env.HOST }, 'issuer listening');
  reconciler.start();

  shutdown
    .add('drain http', () => closeServer(server))
    .add('stop gate healing', () => healer.stop())
    .add('stop reconcile', () => reconciler.stop())
    .add('flush producer', () => producer.flush())
    .add('disconnect producer', async () => kafkaProducer?.disconnect())
    .add('release unproduced slots', () => releaser.stop())
    .add('close redis', () => Promise.all([redis, ...waitConnections].map((c) => c.quit())))
    .add('close pool', () => pool.end());
  return { port, gate, reconciler, shutdown, stop: () => shutdown.run('stop') };
}
