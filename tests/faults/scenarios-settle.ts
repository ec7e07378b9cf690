import { type DbPool, issuedUserIds } from '@coupon/db';
import { Gate } from '@coupon/gate';
import { createRedis, redisTarget } from '@coupon/kit';
import { opsEnv } from '@coupon/ops';
import type { Redis } from 'ioredis';
import { sleep } from '../support/index.js';
import type { Load } from './load.js';
import type { PrivateKafka } from './private-kafka.js';
import type { PrivateKafkaCluster } from './private-kafka-cluster.js';
import { type Node, RedisHa } from './private-redis-ha.js';
import type { FaultSpec } from './run.js';
import { type Basic, basic, type Timing, type WithProxy } from './scenarios.js';
import { dbOfTestRun, ISSUER_ENV } from './scenarios-ha.js';
import { kafkaLeaderKill, type LeaderKill } from './scenarios-kafka.js';
import type { Topology } from './topology.js';

/**
 * Faults that leave admissions ambiguous (admitted in Redis, the answer a 503) or take the gate
 * away while another dependency is down: the system must settle each one by itself (the automatic
 * reconcile, the heal), answer nothing final that is false (a 404 for a coupon that exists, a 409
 * for a user who has nothing), and leave no work for an operator. The runner's settle step checks
 * that before any reconcile (accounting.ts).
 */

/** Redis alone (no Kafka admin: these run while a broker is down), commands queued while connecting. */
async function withRedis<T>(topo: Topology, f: (redis: Redis) => Promise<T>): Promise<T> {
  const env = opsEnv.parse({ ...topo.deps, LOG_LEVEL: 'silent' });
  const redis = createRedis({ ...redisTarget(env), failFast: false });
  try {
    return await f(redis);
  } finally {
    redis.disconnect();
  }
}

/** Retries a step whose Redis command timed out on a loaded machine (up to 5 attempts). */
async function retried<T>(f: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await f();
    } catch (err) {
      if (attempt >= 5) throw err;
      await sleep(200);
    }
  }
}

/** Deletes every Redis key of the coupons' gates (a lost gate: what a flush or a failover to an empty node does). */
export function deleteGates(topo: Topology, couponIds: readonly number[]): Promise<number> {
  return withRedis(topo, (redis) =>
    retried(async () => {
      let n = 0;
      for (const id of couponIds) {
        const keys: string[] = [];
        for await (const batch of redis.scanStream({
          match: `{coupon:${id}}:*`,
          count: 1_000,
        }) as AsyncIterable<string[]>)
          keys.push(...batch);
        if (keys.length > 0) n += await redis.del(...keys);
      }
      return n;
    }),
  );
}

/**
 * Waits until every coupon's gate is back (the issuer's heal: its wait for the producer's horizon,
 * then the rebuild); seconds it took. The requests of the load trigger the heal.
 */
export function gatesBack(
  topo: Topology,
  couponIds: readonly number[],
  timeoutMs = 120_000,
): Promise<number> {
  return withRedis(topo, async (redis) => {
    const gate = new Gate(redis);
    const t0 = Date.now();
    for (const id of couponIds) {
      while (!(await gate.state(id).catch(() => undefined))) {
        if (Date.now() - t0 > timeoutMs)
          throw new Error(`gate of coupon ${id} not rebuilt in ${timeoutMs} ms`);
        await sleep(200);
      }
    }
    return (Date.now() - t0) / 1_000;
  });
}

/** How long after the first fault the gates are deleted (the issue's trial: 0.7 s). */
const GATE_LOSS_AFTER_MS = 700;

/** The three-broker leader kill, with both coupons' gates deleted while the broker is down. */
export const gateLossDuringLeaderKill = (tm: Timing, cluster: PrivateKafkaCluster): FaultSpec<LeaderKill> =>
  kafkaLeaderKill(tm, cluster, {
    name: 'gate lost during a Kafka leader kill -9 (1 of 3)',
    alsoAfterKill: async ({ topo }) => {
      await sleep(GATE_LOSS_AFTER_MS);
      await deleteGates(topo, topo.coupons);
      // The broker stays down at least until the gates are healed (the heal works on two brokers).
      await gatesBack(topo, topo.coupons);
    },
  });

/**
 * The single private broker killed -9 (no broker left: every produce fails or times out), the gates
 * deleted 0.7 s later, the broker restarted after the outage. The heal must not read the topics
 * before every admission taken before the loss has landed or failed.
 */
export const gateLossDuringBrokerKill = (tm: Timing, kafka: PrivateKafka): FaultSpec<Basic> => ({
  name: `gate lost during a Kafka broker kill -9 (${tm.outageMs / 1_000} s down)`,
  ...tm,
  deps: { KAFKA_BROKERS: kafka.brokers },
  build: (t) => basic(t),
  inject: async (_s, { topo, load }) => {
    await kafka.kill();
    kafka.proxy.cut();
    await sleep(GATE_LOSS_AFTER_MS);
    await deleteGates(topo, topo.coupons);
    await sleep(Math.max(0, tm.outageMs - GATE_LOSS_AFTER_MS));
    await kafka.start();
    load.mark('deps back');
    await gatesBack(topo, topo.coupons);
  },
});

/**
 * MariaDB does not answer (every issuer and persister connection goes through a FaultProxy that
 * stops forwarding, as a hung server does) and the gates are deleted meanwhile. The issuer cannot
 * tell whether the coupon exists: it must answer 503 with Retry-After, never 404 COUPON_NOT_FOUND,
 * and heal the gates once the database answers again.
 */
export const gateLossDbHung = (tm: Timing): FaultSpec<WithProxy> => ({
  name: `gate lost while MariaDB does not answer (${tm.outageMs / 1_000} s)`,
  ...tm,
  build: async (t) => {
    const proxy = await t.proxy(t.databasePort());
    const db = { DATABASE_URL: t.databaseVia(proxy.port), DB_CONNECTION_TIMEOUT_MS: '300' };
    return { ...(await basic(t, { issuer: db, persisters: [db] })), proxy };
  },
  inject: async (s, { topo, load }) => {
    s.proxy.hang();
    await sleep(500);
    await deleteGates(topo, topo.coupons);
    await sleep(Math.max(0, tm.outageMs - 500));
    s.proxy.resume();
    s.proxy.cut(); // the hung connections lost bytes while hanging
    load.mark('deps back');
    await gatesBack(topo, topo.coupons);
  },
});

export interface Stalled extends Basic {
  ha: RedisHa;
  /** Users answered 503 while both replicas were stopped, each retried after they resumed. */
  retried: Retried[];
  /** 503s answered during the stall (of requests sent then). */
  rejected: number;
}

export interface Retried {
  userId: number;
  couponId: number;
  /** Every answer of the retries, e.g. ['503 UNAVAILABLE', '202']. */
  answers: string[];
}

const RETRY_ATTEMPTS = 3;
const RETRY_PAUSE_MS = 1_000;

async function retryRejected(load: Load, from: number, to: number): Promise<Retried[]> {
  const rejected = load.between(from, to).filter((x) => x.status === 503);
  return Promise.all(
    rejected.map(async (x): Promise<Retried> => {
      const answers: string[] = [];
      for (let i = 0; i < RETRY_ATTEMPTS; i++) {
        const r = await load.retry(x.userId, x.couponId);
        answers.push(r.status === 202 ? '202' : `${r.status} ${r.code}`.trim());
        if (r.status !== 503 && r.status !== 0) break;
        await sleep(RETRY_PAUSE_MS);
      }
      return { userId: x.userId, couponId: x.couponId, answers };
    }),
  );
}

/**
 * Both Redis replicas behind Sentinel stopped (SIGSTOP: their sockets stay open, they answer
 * nothing) for the outage: the gate's WAIT is confirmed by fewer replicas than asked, the issuer
 * answers 503. After SIGCONT the users rejected meanwhile retry (up to 3 times, 1 s apart): each
 * must end with a row, or with nothing (not admitted, no row) and never be told 409 ALREADY_ISSUED
 * for a slot that produced nothing.
 */
export const replicaStall = async (tm: Timing): Promise<FaultSpec<Stalled>> => {
  const ha = await RedisHa.start({ db: dbOfTestRun() });
  let stopped: number[] = [];
  const cont = () => {
    for (const pid of stopped) {
      try {
        process.kill(pid, 'SIGCONT');
      } catch {
        // gone
      }
    }
    stopped = [];
  };
  return {
    name: `both Redis replicas stalled ${tm.outageMs / 1_000} s (SIGSTOP), rejected users retry`,
    ...tm,
    deps: ha.deps,
    close: async () => {
      cont();
      await ha.stop();
    },
    // The edge's SOLD_OUT off: it answers a holder SOLD_OUT too (docs/outcomes.md, "Sold-out at the
    // edge"), and the retries' check reads what the issuers decided for each user.
    build: async (t) => ({
      ...(await basic(t, { issuer: ISSUER_ENV, gateway: { EDGE_SOLD_OUT_TTL_MS: '0' } })),
      ha,
      retried: [],
      rejected: 0,
    }),
    inject: async (s, { load }) => {
      const primary = (await ha.primary()) as Node;
      const replicas = (['redis1', 'redis2', 'redis3'] as const).filter((n) => n !== primary);
      const from = load.mark('replicas stopped');
      stopped = replicas.map((n) => ha.pid(n));
      for (const pid of stopped) process.kill(pid, 'SIGSTOP');
      try {
        await sleep(tm.outageMs);
      } finally {
        cont();
      }
      const to = load.mark('deps back');
      // Requests sent during the stall are answered within the client's budget (5 s).
      await sleep(Math.max(RETRY_PAUSE_MS, from + tm.outageMs + 5_500 - load.now()));
      s.rejected = load.between(from, to).filter((x) => x.status === 503).length;
      s.retried = await retryRejected(load, from, to);
    },
  };
};

/**
 * The retries whose last answer was false: told 202 or 409 ALREADY_ISSUED without a row, or SOLD_OUT
 * with one (a last 503 promises nothing either way: that slot is the automatic reconcile's business).
 * Logs the retries' outcomes.
 */
export async function falseRetryAnswers(pool: DbPool, retried: readonly Retried[]): Promise<string[]> {
  const wrong: string[] = [];
  const tally: Record<string, number> = {};
  for (const u of retried) {
    const has = new Set(await issuedUserIds(pool, u.couponId)).has(u.userId);
    const last = u.answers[u.answers.length - 1] ?? '';
    const promised = last === '202' || last.endsWith('ALREADY_ISSUED');
    if ((promised && !has) || (last.endsWith('SOLD_OUT') && has))
      wrong.push(`user ${u.userId}: ${u.answers.join(', ')}, row ${has}`);
    const k = `${u.answers.join(' → ')}${has ? ' (row)' : ''}`;
    tally[k] = (tally[k] ?? 0) + 1;
  }
  console.log(`[faults] ${retried.length} rejected users retried: ${JSON.stringify(tally)}`);
  return wrong;
}
