/**
 * Step 4: the persister's drain rate. N events produced straight to a topic of its own
 * (KAFKA_TOPIC_PREFIX), then a separate persister started on it, timed until N rows; the rows are
 * deleted afterwards (the gate never admitted them).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { eventKey, newIssuedEvent, topicNames } from '@coupon/contracts';
import { Kafka, logLevel } from 'kafkajs';
import mysql from 'mysql2/promise';
import { DATABASE_URL, rowStats } from '../rows.ts';
import { createCoupon } from './admin.ts';
import { DRAIN_EVENTS, DRY, KAFKA_BROKERS, log, loopbackOnly, plan, ROOT, sleep } from './config.ts';

export interface DrainResult {
  events: number;
  produceSeconds: number;
  /** From the persister's start to the last row (includes joining the group). */
  wallSeconds: number;
  /** From the first to the last row written (the table's created_at). */
  rowsPerSecond?: number;
  rows: number;
}

type Topics = ReturnType<typeof topicNames>;

export async function persisterDrain(): Promise<DrainResult> {
  loopbackOnly(KAFKA_BROKERS);
  const prefix = `bench-${Date.now()}.`;
  const topics = topicNames(prefix);
  const { id: couponId } = await createCoupon(DRAIN_EVENTS, 'persister drain');
  if (DRY) return dryDrain(prefix, topics, couponId);
  const kafka = new Kafka({
    clientId: 'coupon-bench',
    brokers: KAFKA_BROKERS.split(','),
    logLevel: logLevel.NOTHING,
  });
  const kadmin = kafka.admin();
  await kadmin.connect();
  let persister: ChildProcess | undefined;
  try {
    await kadmin.createTopics({
      waitForLeaders: true,
      topics: [topics.issued, topics.issuedDlt].map((topic) => ({
        topic,
        numPartitions: 6,
        replicationFactor: 1,
      })),
    });
    const produceSeconds = await produce(kafka, topics.issued, couponId);
    log(
      `produced ${DRAIN_EVENTS} events in ${produceSeconds.toFixed(1)} s to ${topics.issued}; starting a persister on it`,
    );
    const t1 = performance.now();
    persister = startPersister(prefix);
    const rows = await countRows(couponId, persister);
    const wallSeconds = (performance.now() - t1) / 1000;
    const rs = await rowStats(couponId);
    await deleteRows(couponId);
    return { events: DRAIN_EVENTS, produceSeconds, wallSeconds, rowsPerSecond: rs.writeRate, rows };
  } finally {
    if (persister && persister.exitCode === null) {
      persister.kill('SIGTERM');
      await new Promise((r) => persister?.once('exit', r));
    }
    await kadmin.deleteTopics({ topics: [topics.issued, topics.issuedDlt] }).catch(() => undefined);
    await kadmin.deleteGroups([topics.persisterGroup]).catch(() => undefined);
    await kadmin.disconnect();
  }
}

/** DRAIN_EVENTS events of distinct users for the coupon, in batches of 5,000, acks=all; seconds taken. */
async function produce(kafka: Kafka, topic: string, couponId: number): Promise<number> {
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  const t0 = performance.now();
  const batch = 5_000;
  const userBase = 3_000_000_000;
  for (let i = 0; i < DRAIN_EVENTS; i += batch) {
    const messages = [];
    for (let j = i; j < Math.min(DRAIN_EVENTS, i + batch); j++) {
      const event = newIssuedEvent(couponId, userBase + j, `bench-${j}`);
      messages.push({ key: eventKey(event), value: JSON.stringify(event) });
    }
    await producer.send({ topic, acks: -1, messages });
  }
  const seconds = (performance.now() - t0) / 1000;
  await producer.disconnect();
  return seconds;
}

/** The environment of the bench's own persister: its topics, no HTTP port, no migrations. */
const persisterEnv = (prefix: string) => ({
  KAFKA_TOPIC_PREFIX: prefix,
  PORT: '0',
  MIGRATE_ON_START: 'false',
  LOG_LEVEL: 'warn',
  KAFKA_BROKERS,
  DATABASE_URL,
});

function startPersister(prefix: string): ChildProcess {
  return spawn(process.execPath, [join(ROOT, 'services/persister/dist/main.js')], {
    env: { ...process.env, ...persisterEnv(prefix) },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

/** Polls the coupon's rows every 100 ms until all DRAIN_EVENTS are there (at most 180 s). */
async function countRows(couponId: number, persister: ChildProcess): Promise<number> {
  const conn = await mysql.createConnection({ uri: DATABASE_URL });
  let rows = 0;
  try {
    const until = Date.now() + 180_000;
    while (rows < DRAIN_EVENTS && Date.now() < until && persister.exitCode === null) {
      await sleep(100);
      const [r] = await conn.query<mysql.RowDataPacket[]>(
        'SELECT COUNT(*) AS n FROM coupon_issue WHERE coupon_id = ?',
        [couponId],
      );
      rows = Number(r[0]?.n ?? 0);
    }
  } finally {
    await conn.end();
  }
  return rows;
}

/** The rows were never admitted by the gate: remove them so the coupon's Redis and MySQL agree. */
async function deleteRows(couponId: number): Promise<void> {
  const del = await mysql.createConnection({ uri: DATABASE_URL });
  await del
    .query('DELETE FROM coupon_issue WHERE coupon_id = ?', [couponId])
    .then(() => del.query('UPDATE coupon SET issued = 0 WHERE id = ?', [couponId])) // the quantity guard's counter
    .finally(() => del.end());
}

function dryDrain(prefix: string, topics: Topics, couponId: number): DrainResult {
  plan(`kafka ${KAFKA_BROKERS}: create ${topics.issued} and ${topics.issuedDlt} (6 partitions)`);
  plan(
    `produce ${DRAIN_EVENTS} events of coupon ${couponId} to ${topics.issued} (batches of 5,000, acks=all)`,
  );
  const env = Object.entries(persisterEnv(prefix)).map(([k, v]) => `${k}=${v.replace(/:[^:@/]*@/, ':***@')}`);
  plan(`${env.join(' ')} node ${join(ROOT, 'services/persister/dist/main.js')}`);
  plan(`count the rows of coupon ${couponId} until ${DRAIN_EVENTS} (at most 180 s), then delete them`);
  plan(`delete ${topics.issued}, ${topics.issuedDlt} and the group ${topics.persisterGroup}`);
  return {
    events: DRAIN_EVENTS,
    produceSeconds: 1,
    wallSeconds: 1,
    rowsPerSecond: DRAIN_EVENTS,
    rows: DRAIN_EVENTS,
  };
}
