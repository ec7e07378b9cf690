import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DbPool, runMigrations } from '@coupon/db';
import { freeRun } from './private-redis-ha.js';
import { stackHa } from './private-stack.js';

export const GALERA_NODES = ['galera1', 'galera2', 'galera3'] as const;
export type GaleraNode = (typeof GALERA_NODES)[number];
const SERVICES = [...GALERA_NODES, 'dbproxy'];

/**
 * A private three-node MariaDB Galera cluster behind its HAProxy, started by the same code users
 * run (`infra/local/stack --ha up galera1 galera2 galera3 dbproxy`, stack.d/mariadb-ha.sh) with its
 * state in a temporary STACK_HOME and free ports; the schema migrated through the writer port.
 */
export class Galera {
  readonly home = mkdtempSync(join(tmpdir(), 'coupon-galera-'));
  /** Seconds `stack --ha up` took (seed, three nodes, proxy). */
  startS = 0;

  private constructor(
    readonly nodeBase: number,
    readonly galeraBase: number,
    readonly proxyPort: number,
  ) {}

  static async start(): Promise<Galera> {
    const g = new Galera(await freeRun(3), await freeRun(30), await freeRun(2));
    const t0 = Date.now();
    try {
      await g.stack('up', ...SERVICES);
      await runMigrations(g.writerUrl);
    } catch (err) {
      await g.stop();
      throw err;
    }
    g.startS = Number(((Date.now() - t0) / 1_000).toFixed(1));
    return g;
  }

  stack(cmd: string, ...services: string[]): Promise<string> {
    return stackHa(
      {
        home: this.home,
        env: {
          MARIADB_HA_PORT: String(this.nodeBase),
          MARIADB_HA_GALERA_PORT: String(this.galeraBase),
          DB_PROXY_PORT: String(this.proxyPort),
          DB_PROXY_READ_PORT: String(this.proxyPort + 1),
        },
        // set, they would mean "use that database instead": start nothing
        unset: ['DATABASE_URL', 'DATABASE_READ_URL'],
        timeoutMs: 240_000,
      },
      cmd,
      ...services,
    );
  }

  get writerUrl(): string {
    return `mysql://coupon:coupon@127.0.0.1:${this.proxyPort}/coupon`;
  }

  get readerUrl(): string {
    return `mysql://coupon:coupon@127.0.0.1:${this.proxyPort + 1}/coupon`;
  }

  /** The node the proxy's writer port leads to now (undefined while it leads nowhere). */
  async writer(): Promise<GaleraNode | undefined> {
    const pool = new DbPool({
      url: this.writerUrl,
      maximumPoolSize: 1,
      connectTimeoutMs: 2_000,
      connectionTimeoutMs: 3_000,
    });
    try {
      const [rows] = await pool.with((c) => c.query('SELECT @@wsrep_node_name AS n'));
      return (rows as Array<{ n: GaleraNode }>)[0]?.n;
    } catch {
      return undefined;
    } finally {
      await pool.end();
    }
  }

  kill(node: GaleraNode): void {
    process.kill(Number(readFileSync(join(this.home, 'run', `${node}.pid`), 'utf8')), 'SIGKILL');
  }

  async stop(): Promise<void> {
    await this.stack('down', ...SERVICES).catch(() => undefined);
    if (process.env.FAULTS_KEEP_GALERA === '1') console.log(`[faults] Galera state kept in ${this.home}`);
    else rmSync(this.home, { recursive: true, force: true });
  }
}
