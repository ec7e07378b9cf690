import { infra } from '../integration/harness.js';
import type { FaultProxy } from '../integration/proxy.js';
import { sleep } from '../support/index.js';
import type { Load } from './load.js';
import { type Node, RedisHa } from './private-redis-ha.js';
import type { FaultSpec } from './run.js';
import { type Basic, basic, type Timing } from './scenarios.js';

/**
 * Redis as primary + 2 replicas + 3 Sentinels (infra/local/stack --ha, private copy): the services
 * find the primary through Sentinel (REDIS_SENTINELS) and must follow a failover.
 */

/** Seconds from the fault's start, measured by the scenario itself (printed with the fault table). */
export interface HaFigures {
  /** Until a majority of Sentinels names another primary. */
  promotedS?: number;
  /** Until the edge answered a request sent after the promotion with 202 (clients followed). */
  followedS?: number;
  /** From the restart (kill) or the healing (partition) until the old primary is a linked replica. */
  rejoinedS?: number;
  /** Partition: until a write sent straight to the isolated old primary fails with NOREPLICAS. */
  refusedS?: number;
  /** Partition: writes the isolated old primary took before it refused (what a failover discards). */
  tookBeforeRefusal?: number;
  /** Partition: writes it took after its first refusal (must be 0). */
  tookAfterRefusal?: number;
  /** Partition: of the writes it took, how many the new primary holds after the healing (expected 0). */
  keptAfterRejoin?: number;
}

export interface Ha extends Basic {
  ha: RedisHa;
  old?: Node;
  figures: HaFigures;
}

/** The gate's pipelines wait for one replica once libs/gate's WAIT lands; ignored by an issuer without it. */
export const ISSUER_ENV = { REDIS_WAIT_REPLICAS: '1' };

const secs = (t0: number) => Number(((Date.now() - t0) / 1_000).toFixed(1));

export function dbOfTestRun(): number {
  return Number(new URL(infra().REDIS_URL).pathname.slice(1) || 0);
}

async function build(t: Parameters<FaultSpec<Ha>['build']>[0], ha: RedisHa): Promise<Ha> {
  return { ...(await basic(t, { issuer: ISSUER_ENV })), ha, figures: {} };
}

/** Waits for a Sentinel majority to name a primary other than `old`, then for a 202 sent after it. */
async function followed(s: Ha, load: Load, old: Node, t0: number): Promise<void> {
  await s.ha.until('a replica promoted', async () => ((await s.ha.primary()) ?? old) !== old, 60_000);
  s.figures.promotedS = secs(t0);
  const promotedAt = load.now();
  await s.ha.until(
    'a 202 for a request sent after the promotion',
    async () => load.shots.some((x) => x.t >= promotedAt && x.status === 202),
    30_000,
  );
  s.figures.followedS = secs(t0);
}

async function rejoined(s: Ha, node: Node, t0: number): Promise<void> {
  await s.ha.until(
    `${node} a linked replica of the new primary`,
    async () => {
      const r = await s.ha.replication(node);
      return r.role === 'slave' && r.master_link_status === 'up';
    },
    60_000,
  );
  s.figures.rejoinedS = secs(t0);
}

/**
 * kill -9 of the Redis primary under load: a Sentinel majority promotes a replica, the clients
 * follow (+switch-master, role check). With `rejoin`, the killed node is started again through the
 * stack and must come back as a replica of the new primary (its file still says primary).
 */
export const redisFailover = async (tm: Timing, o: { rejoin: boolean }): Promise<FaultSpec<Ha>> => {
  const ha = await RedisHa.start({ db: dbOfTestRun() });
  return {
    name: `Redis primary kill -9, Sentinel failover${o.rejoin ? ' + rejoin' : ''}`,
    ...tm,
    deps: ha.deps,
    close: () => ha.stop(),
    build: (t) => build(t, ha),
    inject: async (s, { load }) => {
      const old = (await ha.primary()) as Node;
      s.old = old;
      const t0 = Date.now();
      await ha.kill(old);
      await followed(s, load, old, t0);
      if (o.rejoin) {
        const t1 = Date.now();
        await ha.restart(old);
        await rejoined(s, old, t1);
      }
    },
  };
};

const PROBE = "return redis.call('SET', KEYS[1], ARGV[1])";

/**
 * A partition: every link to the primary (Sentinels', replicas', services') goes through one
 * FaultProxy, which stops forwarding (silently, as a lost network does: no connection is closed).
 * Meanwhile a client on the primary's side writes to it directly (its own port): it must refuse
 * with NOREPLICAS once min-replicas-max-lag passes, a replica is promoted on the majority side and
 * the service continues. After the healing the old primary rejoins as a replica, and what it took
 * before refusing is gone (never acknowledged to a user: the services could not reach it).
 */
export const redisPartition = async (tm: Timing): Promise<FaultSpec<Ha>> => {
  const ha = await RedisHa.start({ db: dbOfTestRun(), proxied: true });
  const proxy = ha.proxy as FaultProxy;
  return {
    name: `Redis primary partitioned ${tm.outageMs / 1_000} s, Sentinel failover + rejoin`,
    ...tm,
    deps: ha.deps,
    close: () => ha.stop(),
    build: (t) => build(t, ha),
    inject: async (s, { load }) => {
      const old = (await ha.primary()) as Node;
      s.old = old;
      const direct = ha.direct(old);
      direct.on('error', () => {});
      await direct.connect();
      const probes: Array<{ ms: number; key: string; ok: boolean; err?: string }> = [];
      let probing = true;
      const t0 = Date.now();
      proxy.hang();
      const prober = (async () => {
        for (let n = 0; probing; n++) {
          const key = `{ha-probe}:${n}`;
          try {
            await direct.eval(PROBE, 1, key, String(n));
            probes.push({ ms: Date.now() - t0, key, ok: true });
          } catch (err) {
            probes.push({ ms: Date.now() - t0, key, ok: false, err: (err as Error).message });
          }
          await sleep(100);
        }
      })();
      await followed(s, load, old, t0);
      const left = tm.outageMs - (Date.now() - t0);
      if (left > 0) await sleep(left);
      probing = false;
      await prober;
      direct.disconnect();
      const refusal = probes.find((p) => !p.ok && p.err?.startsWith('NOREPLICAS'));
      s.figures.refusedS = refusal ? Number((refusal.ms / 1_000).toFixed(1)) : Number.NaN;
      const took = probes.filter((p) => p.ok);
      s.figures.tookBeforeRefusal = took.filter((p) => !refusal || p.ms < refusal.ms).length;
      s.figures.tookAfterRefusal = refusal ? took.filter((p) => p.ms > refusal.ms).length : took.length;

      // Heal: forward again, and drop the hung connections (they lost bytes while hanging).
      const t1 = Date.now();
      proxy.resume();
      proxy.cut();
      await rejoined(s, old, t1);
      const now = (await ha.primary()) as Node;
      const client = ha.direct(now);
      client.on('error', () => {});
      await client.connect();
      try {
        s.figures.keptAfterRejoin = took.length ? await client.exists(...took.map((p) => p.key)) : 0;
      } finally {
        client.disconnect();
      }
    },
  };
};
