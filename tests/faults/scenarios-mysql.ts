import { DbPool } from '@coupon/db';
import { sleep } from '../support/index.js';
import type { Galera, GaleraNode } from './private-galera.js';
import { PrivateRedis } from './private-redis.js';
import type { FaultSpec } from './run.js';
import { type Basic, basic, type Timing } from './scenarios.js';

/** Seconds from the kill, measured by the scenario (printed with the fault table). */
export interface MysqlFigures {
  /** `stack --ha up` of the cluster and its proxy. */
  clusterStartS?: number;
  /** Until the proxy's writer port answered from another node. */
  promotedS?: number;
  /** Until the rows of the run's coupons grew again (the persister wrote on the promoted writer). */
  rowsResumedS?: number;
  /** Rows counted just before the kill; every one must still be there after it. */
  rowsBeforeKill?: number;
  /** Restart of the killed node until it is Synced in the cluster again (IST). */
  rejoinedS?: number;
  /** The node the writer port led to after the failover, and after the rejoin (sticky: the same). */
  writerAfter?: string;
  writerAfterRejoin?: string;
}

export interface Mysql extends Basic {
  galera: Galera;
  old?: GaleraNode;
  figures: MysqlFigures;
}

const secs = (t0: number) => Number(((Date.now() - t0) / 1_000).toFixed(1));
async function rows(pool: DbPool, ids: number[]): Promise<number | undefined> {
  try {
    const [r] = await pool.with((c) =>
      c.query('SELECT COUNT(*) AS n FROM coupon_issue WHERE coupon_id IN (?)', [ids]),
    );
    return Number((r as Array<{ n: number }>)[0]?.n);
  } catch {
    return undefined;
  }
}

async function until<T>(what: string, f: () => Promise<T | undefined | false>, ms: number): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`${what}: not seen within ${ms} ms`);
    await sleep(100);
  }
}

/**
 * kill -9 of the MariaDB node the proxy sends writes to, under load: the others keep quorum (2 of
 * 3), the proxy's health check fails over to a backup, the persister's batch in flight fails,
 * backs off and is retried there. Every row counted before the kill is still there (a commit is
 * certified by the cluster before it returns). With `rejoin`, the killed node restarts through the
 * stack (crash recovery, IST) and the writer stays where it is.
 *
 * The cluster is a new database: it numbers coupons from 1 again (1, 4, … or 2, 5, …: Galera steps
 * ids by the cluster size), and gate keys and the reconcile's active set are named by coupon id. In
 * the shared test Redis those ids are other runs' coupons, with admitted users and no rows here: the
 * issuer's reconcile took them for lost rows and republished 10,000 events of coupons that do not
 * exist into this run's topic. So the services get a Redis of their own too.
 */
export const mysqlWriterKill = async (
  tm: Timing,
  galera: Galera,
  o: { rejoin: boolean },
): Promise<FaultSpec<Mysql>> => {
  const figures: MysqlFigures = { clusterStartS: galera.startS };
  const redis = await PrivateRedis.start();
  return {
    name: `MySQL writer kill -9, Galera failover behind HAProxy${o.rejoin ? ' + rejoin' : ''}`,
    ...tm,
    deps: { DATABASE_URL: galera.writerUrl, REDIS_URL: redis.url },
    close: async () => {
      await galera.stop();
      await redis.stop();
    },
    build: async (t) => ({
      ...(await basic(t, {
        issuer: { DATABASE_READ_URL: galera.readerUrl, REPLICA_LAG_PROBE_MS: '1000' },
        persisters: [{ DB_CONNECTION_TIMEOUT_MS: '500', RETRY_MAX_BACKOFF_MS: '500' }],
      })),
      galera,
      figures,
    }),
    inject: async (s, { topo }) => {
      const old = await until('the writer port answering', () => galera.writer(), 30_000);
      s.old = old;
      const pool = new DbPool({
        url: galera.writerUrl,
        maximumPoolSize: 2,
        connectTimeoutMs: 1_000,
        connectionTimeoutMs: 2_000,
      });
      try {
        figures.rowsBeforeKill = await rows(pool, topo.coupons);
        const t0 = Date.now();
        galera.kill(old);
        figures.writerAfter = await until(
          'the writer port on another node',
          async () => {
            const w = await galera.writer();
            return w !== undefined && w !== old && w;
          },
          60_000,
        );
        figures.promotedS = secs(t0);
        const base = figures.rowsBeforeKill ?? 0;
        await until(
          'rows growing on the promoted writer',
          async () => ((await rows(pool, topo.coupons)) ?? 0) > base,
          60_000,
        );
        figures.rowsResumedS = secs(t0);
        const left = tm.outageMs - (Date.now() - t0);
        if (left > 0) await sleep(left);
        if (o.rejoin) {
          const t1 = Date.now();
          await galera.stack('up', old);
          figures.rejoinedS = secs(t1);
          figures.writerAfterRejoin = await galera.writer();
        }
      } finally {
        await pool.end();
      }
    },
  };
};

export function describeMysql(s: Mysql): string {
  return `killed ${s.old}; ${JSON.stringify(s.figures)}`;
}
