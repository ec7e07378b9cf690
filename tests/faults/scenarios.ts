import { gateSnapshot } from '@coupon/gate';
import { createRedis } from '@coupon/kit';
import type { FaultProxy } from '../integration/proxy.js';
import { sleep } from '../support/index.js';
import { PrivateRedis } from './private-redis.js';
import type { ServiceProcess } from './processes.js';
import type { FaultSpec, FaultSystem } from './run.js';
import type { Topology } from './topology.js';

/** Load rate and how long each phase lasts: the short (CI) and long forms differ only here. */
export interface Timing {
  rate: number;
  beforeMs: number;
  afterMs: number;
  /** How long an outage lasts (a dependency unreachable, slow, or cut). */
  outageMs: number;
}

export interface Basic extends FaultSystem {
  issuer: ServiceProcess;
  persisters: ServiceProcess[];
}

/** issuer → persister(s) → gateway, all direct to the dependencies unless env says otherwise. */
export async function basic(
  t: Topology,
  o: {
    persisters?: Array<Record<string, string>>;
    issuer?: Record<string, string>;
    gateway?: Record<string, string>;
    issuerUrl?: (i: ServiceProcess) => Promise<string>;
  } = {},
): Promise<Basic> {
  const issuer = await t.issuer('issuer', o.issuer);
  const persisters = await Promise.all(
    (o.persisters ?? [{}]).map((env, i) => t.persister(`persister-${i + 1}`, env)),
  );
  const issuerUrl = o.issuerUrl ? await o.issuerUrl(issuer) : issuer.url;
  const gateway = await t.gateway('gateway', issuerUrl, o.gateway);
  return { gateways: [gateway], issuer, persisters };
}

type Spec<S extends FaultSystem = Basic> = FaultSpec<S>;

/** kill -9 of the issuer with produces in flight, restarted 1 s later on the same port. */
export const issuerKill = (tm: Timing): Spec => ({
  name: 'issuer kill -9 + restart',
  ...tm,
  build: (t) => basic(t),
  inject: async (s) => {
    await s.issuer.kill('SIGKILL');
    await sleep(1_000);
    await s.issuer.start();
  },
});

/**
 * Two persisters in one group; one is killed -9 (it never leaves the group): the other takes its
 * partitions over once the broker expires its session (sessionTimeout 30 s in the persister).
 */
export const persisterTakeover = (tm: Timing): Spec => ({
  name: 'persister kill -9 (1 of 2)',
  ...tm,
  afterMs: Math.max(tm.afterMs, 40_000),
  build: (t) => basic(t, { persisters: [{}, {}] }),
  inject: async (s) => {
    await s.persisters[0]?.kill('SIGKILL');
  },
});

export interface WithProxy extends Basic {
  proxy: FaultProxy;
}

/** MariaDB unreachable for the persister: it backs off, lag grows, drains after; nothing to the DLT. */
export const dbOutage = (tm: Timing): Spec<WithProxy> => ({
  name: `MariaDB unreachable ${tm.outageMs / 1_000} s`,
  ...tm,
  build: async (t) => {
    const proxy = await t.proxy(t.databasePort());
    const s = await basic(t, {
      persisters: [{ DATABASE_URL: t.databaseVia(proxy.port), DB_CONNECTION_TIMEOUT_MS: '300' }],
    });
    return { ...s, proxy };
  },
  inject: async (s) => {
    await s.proxy.refuse();
    await sleep(tm.outageMs);
    await s.proxy.accept();
  },
});

export const HANG_TIMEOUT_MS = 2_000;

export interface Hung extends WithProxy {
  /** Breaker openings while the issuer hung (gateway metric). */
  opened: number;
  /** Seconds from the recovery until the breaker reported closed again (NaN: not within 15 s). */
  closedAfter: Promise<number>;
}

/**
 * The issuer hangs (proxy stops forwarding): calls time out after ISSUER_TIMEOUT_MS (2 s), the
 * breaker opens and the gateway answers 503 at once; after recovery a half-open probe closes it.
 */
export const issuerHang = (tm: Timing): Spec<Hung> => ({
  name: `issuer hangs ${tm.outageMs / 1_000} s`,
  ...tm,
  build: async (t) => {
    let proxy: FaultProxy | undefined;
    const s = await basic(t, {
      issuerUrl: async (i) => {
        proxy = await t.proxy(i.port);
        return proxy.url;
      },
      gateway: { ISSUER_TIMEOUT_MS: String(HANG_TIMEOUT_MS) },
    });
    return { ...s, proxy: proxy as FaultProxy, opened: 0, closedAfter: Promise.resolve(Number.NaN) };
  },
  inject: async (s) => {
    const gw = s.gateways[0] as ServiceProcess;
    const opens = () => metric(gw, 'circuit_breaker_transitions_total', 'to="open"');
    const before = await opens();
    s.proxy.hang();
    await sleep(tm.outageMs);
    s.opened = (await opens()) - before;
    s.proxy.resume();
    s.proxy.cut(); // the hung keep-alive connections carry half-sent requests: drop them
    const t0 = Date.now();
    s.closedAfter = (async () => {
      while (Date.now() - t0 < 15_000) {
        if ((await metric(gw, 'circuit_breaker_state').catch(() => -1)) === 0)
          return (Date.now() - t0) / 1_000;
        await sleep(100);
      }
      return Number.NaN;
    })();
  },
});

/** Persister with one connection, DB slowed down: acquisitions time out, batches retry, nothing lost. */
export const poolExhausted = (tm: Timing): Spec<WithProxy & { timeouts: number }> => ({
  name: `DB pool exhausted ${tm.outageMs / 1_000} s`,
  ...tm,
  build: async (t) => {
    const proxy = await t.proxy(t.databasePort());
    const env = {
      DATABASE_URL: t.databaseVia(proxy.port),
      DB_POOL_SIZE: '1',
      DB_CONNECTION_TIMEOUT_MS: '200',
      PARTITIONS_CONCURRENCY: '6',
    };
    return { ...(await basic(t, { persisters: [env] })), proxy, timeouts: 0 };
  },
  inject: async (s) => {
    s.proxy.delay(400);
    await sleep(tm.outageMs);
    s.timeouts = await metric(s.persisters[0] as ServiceProcess, 'db_pool_acquire_timeouts_total');
    s.proxy.delay(0);
  },
});

/** Sum of a metric's samples on a service's /metrics, optionally only those whose labels contain `label`. */
export async function metric(p: ServiceProcess, name: string, label = ''): Promise<number> {
  const text = await (await fetch(`${p.metricsUrl}/metrics`)).text();
  return text
    .split('\n')
    .filter((l) => (l.startsWith(`${name} `) || l.startsWith(`${name}{`)) && l.includes(label))
    .reduce((n, l) => n + Number(l.split(' ').pop()), 0);
}

export interface WithRedis extends Basic {
  redis: PrivateRedis;
  /** The gates the issuer rebuilt by itself, per coupon, read as soon as each was back (the data-loss scenario). */
  healed: HealedGate[];
}

export interface HealedGate {
  couponId: number;
  /** From the restart of the wiped Redis until the gate was back. */
  afterMs: number;
  quantity: number;
  remaining: number;
  admitted: number;
}

async function withPrivateRedis(t: Topology, redis: PrivateRedis): Promise<WithRedis> {
  return { ...(await basic(t)), redis, healed: [] };
}

/**
 * Redis kill -9 and restart from its AOF. With `appendfsync always` every acknowledged admission is
 * on disk. With `everysec` (Redis's default, and infra/local/stack's) Redis may postpone writing the
 * AOF while a background fsync is slow and still answer: a kill then loses acknowledged admissions
 * (seen: 6 on a busy machine), the restarted gate has their stock back until reconcile adopts the rows.
 */
export const redisRestart = async (tm: Timing, fsync: 'always' | 'everysec'): Promise<Spec<WithRedis>> => {
  const redis = await PrivateRedis.start(['--appendfsync', fsync]);
  return {
    name: `Redis kill -9 + restart (AOF ${fsync})`,
    ...tm,
    deps: { REDIS_URL: redis.url },
    close: () => redis.stop(),
    build: (t) => withPrivateRedis(t, redis),
    inject: async (s) => {
      await s.redis.kill();
      await sleep(1_000);
      await s.redis.start();
    },
  };
};

/**
 * Redis loses its data: the issuer answers 503 for each coupon while it rebuilds the coupon's gate
 * by itself (after the producer's delivery timeout, from MySQL and the topics); the fault is cleared
 * once every gate is back.
 */
export const redisLost = async (tm: Timing): Promise<Spec<WithRedis>> => {
  const redis = await PrivateRedis.start();
  return {
    name: 'Redis data lost, gates self-healed',
    ...tm,
    deps: { REDIS_URL: redis.url },
    close: () => redis.stop(),
    build: (t) => withPrivateRedis(t, redis),
    inject: async (s, { topo }) => {
      await s.redis.kill();
      s.redis.wipe();
      await s.redis.start();
      const lostAt = Date.now();
      const client = createRedis({ url: s.redis.url, failFast: false });
      try {
        for (const couponId of topo.coupons) {
          for (;;) {
            const g = await gateSnapshot(client, couponId);
            if (g) {
              const { admitted, ...rest } = g;
              s.healed.push({ couponId, afterMs: Date.now() - lostAt, ...rest, admitted: admitted.length });
              break;
            }
            if (Date.now() - lostAt > 60_000)
              throw new Error(`gate of coupon ${couponId} not rebuilt in 60 s`);
            await sleep(100);
          }
        }
      } finally {
        await client.quit();
      }
    },
  };
};
