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
  logShipperOf,
  logShipTarget,
  redisTarget,
  Shutdown,
  watchLogShipping,
} from '@coupon/kit';
import type { Producer } from 'kafkajs';
import { createApp } from './app.js';
import type { IssuerEnv } from './env.js';
import { GateHealer } from './heal.js';
import { IssueService } from './issue.js';
import { createIssuerMetrics } from './metrics.js';
import { BatchingProducer } from './producer.js';
import { Reconciler } from './reconciler.js';
import { watchReplicaLag } from './replica-lag.js';

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
  log: Logger = createLogger('issuer', env.LOG_LEVEL, logShipTarget(env)),
): Promise<RunningIssuer> {
  const topics = topicNames(env.KAFKA_TOPIC_PREFIX);
  if (env.MIGRATE_ON_START) await runMigrations(env.DATABASE_URL);
  const metrics = createIssuerMetrics();
  watchLogShipping(metrics.registry, logShipperOf(log));
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
  // Status and statistics read from a replica when one is given; everything that decides stays on the writer.
  const readPool = env.DATABASE_READ_URL
    ? new DbPool({
        url: env.DATABASE_READ_URL,
        maximumPoolSize: env.DB_POOL_SIZE,
        connectionTimeoutMs: env.DB_CONNECTION_TIMEOUT_MS,
      })
    : pool;
  const lag = env.DATABASE_READ_URL
    ? watchReplicaLag(
        { writer: pool, reader: readPool, registry: metrics.registry, log },
        env.REPLICA_LAG_PROBE_MS,
      )
    : undefined;
  // A produce request abandoned at the delivery timeout holds the broker connection until its own
  // request timeout: keep that at half the delivery timeout so the producer frees up soon after.
  const kafka = createKafka(
    {
      brokers: env.KAFKA_BROKERS,
      clientId: `${env.KAFKA_CLIENT_ID}-issuer`,
      requestTimeoutMs: Math.max(1_000, Math.floor(env.PRODUCER_DELIVERY_TIMEOUT_MS / 2)),
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
      // Bounded retries (about the delivery timeout) so a dead broker ends a send instead of retrying forever.
      retry: { initialRetryTime: 100, maxRetryTime: 1_000, retries: 6 },
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
    },
    metrics.producer,
    renewProducer,
  );
  const gate = new Gate(redis, metrics.gate, {
    waitReplicas: env.REDIS_WAIT_REPLICAS,
    waitTimeoutMs: env.REDIS_WAIT_TIMEOUT_MS,
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
    // Every produce in flight at the loss has been answered by then (acknowledged or timed out); plus a margin.
    settleMs: env.PRODUCER_DELIVERY_TIMEOUT_MS + 1_000,
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
    stallMs: env.PRODUCER_STALL_MS,
    served: (couponId) => reconciler.served(couponId),
  });
  const shutdown = new Shutdown(log, env.SHUTDOWN_TIMEOUT_MS);

  const app = createApp({
    issues,
    gate,
    pool,
    readPool,
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
    .add('close redis', () => redis.quit())
    .add('stop replica lag probe', () => lag?.stop())
    .add('close pool', () => pool.end())
    .add('close read pool', async () => {
      if (readPool !== pool) await readPool.end();
    })
    .add('flush logs', () => logShipperOf(log)?.close());
  return { port, gate, reconciler, shutdown, stop: () => shutdown.run('stop') };
}
