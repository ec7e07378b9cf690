import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { FaultProxy } from '../integration/proxy.js';
import { portFree, sleep } from '../support/index.js';
import { stackHa } from './private-stack.js';

export const MASTER = 'coupon';
const NODES = ['redis1', 'redis2', 'redis3'] as const;
const SENTINELS = ['sentinel1', 'sentinel2', 'sentinel3'] as const;
export type Node = (typeof NODES)[number];

/** The first of `n` consecutive free ports (the stack numbers its nodes and Sentinels from a base). */
export async function freeRun(n: number): Promise<number> {
  for (let i = 0; i < 200; i++) {
    // below the ephemeral range (32768+), where outgoing connections would take ports meanwhile
    const base = 20_000 + Math.floor(Math.random() * 12_000);
    let ok = true;
    for (let p = base; p < base + n && ok; p++) ok = await portFree(p);
    if (ok) return base;
  }
  throw new Error(`no ${n} consecutive free ports`);
}

/**
 * The stack detaches its daemons (own session), so a test process that dies without stop() would
 * leave them running: kill whatever the live topologies' pid files name when it exits.
 */
const live = new Set<string>();
process.once('exit', () => {
  for (const home of live) {
    const run = join(home, 'run');
    const pids = (() => {
      try {
        return readdirSync(run).filter((name) => name.endsWith('.pid'));
      } catch {
        return [];
      }
    })();
    for (const name of pids) {
      try {
        process.kill(Number(readFileSync(join(run, name), 'utf8')), 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
});

/**
 * A private Redis primary + 2 replicas + 3 Sentinels, started by the same implementation users run
 * (`infra/local/stack --ha up`, stack.d/redis-ha.sh) with its state (STACK_HOME) in a temporary
 * directory and free ports. With `proxied`, a FaultProxy stands in front of the first primary and
 * everything reaches it through the proxy (Sentinels, replicas, clients: it announces the proxy's
 * port), so cutting the proxy partitions the primary away from the rest.
 */
export class RedisHa {
  readonly home = mkdtempSync(join(tmpdir(), 'coupon-redis-ha-'));

  private constructor(
    readonly nodeBase: number,
    readonly sentinelBase: number,
    /** The database number clients use (REDIS_URL's /N), the test run's like on the shared Redis. */
    readonly db: number,
    readonly proxy?: FaultProxy,
  ) {}

  static async start(o: { db?: number; proxied?: boolean } = {}): Promise<RedisHa> {
    const nodeBase = await freeRun(3);
    const sentinelBase = await freeRun(3);
    const proxy = o.proxied ? await new FaultProxy(nodeBase).start() : undefined;
    const ha = new RedisHa(nodeBase, sentinelBase, o.db ?? 0, proxy);
    live.add(ha.home);
    try {
      await ha.stack('up', ...NODES, ...SENTINELS);
    } catch (err) {
      await ha.stop();
      throw err;
    }
    return ha;
  }

  /** `infra/local/stack --ha <cmd> <services...>` on this private state and these ports. */
  stack(cmd: string, ...services: string[]): Promise<string> {
    const env: Record<string, string> = {
      REDIS_HA_PORT: String(this.nodeBase),
      REDIS_HA_SENTINEL_PORT: String(this.sentinelBase),
      REDIS_HA_MASTER: MASTER,
    };
    if (this.proxy) env.REDIS_HA_ANNOUNCE_PORT = String(this.proxy.port);
    // REDIS_SENTINELS set would mean "use those instead": start nothing
    return stackHa(
      { home: this.home, env, unset: ['REDIS_SENTINELS'], timeoutMs: 120_000 },
      cmd,
      ...services,
    );
  }

  get sentinels(): string {
    return [0, 1, 2].map((i) => `127.0.0.1:${this.sentinelBase + i}`).join(',');
  }

  /** What the services and coupon-ops get: the Sentinels, the master name, the database number. */
  get deps(): { REDIS_URL: string; REDIS_SENTINELS: string; REDIS_SENTINEL_MASTER: string } {
    return {
      REDIS_URL: `redis://127.0.0.1:${this.nodeBase}/${this.db}`,
      REDIS_SENTINELS: this.sentinels,
      REDIS_SENTINEL_MASTER: MASTER,
    };
  }

  /** A node's own port (not the proxy's). */
  port(node: Node): number {
    return this.nodeBase + NODES.indexOf(node);
  }

  /** A plain client of one node, bypassing Sentinel (and the proxy). Caller disconnects it. */
  direct(node: Node): Redis {
    return new Redis({
      port: this.port(node),
      db: this.db,
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      enableOfflineQueue: true,
      retryStrategy: () => null,
      connectTimeout: 1_000,
      commandTimeout: 1_000,
    });
  }

  /** One Redis command on a node or Sentinel port, on a fresh connection (undefined on error). */
  async ask(port: number, ...args: string[]): Promise<unknown> {
    const c = new Redis({ port, lazyConnect: true, retryStrategy: () => null, connectTimeout: 1_000 });
    c.on('error', () => {});
    try {
      await c.connect();
      return await c.call(args[0] as string, ...args.slice(1));
    } catch {
      return undefined;
    } finally {
      c.disconnect();
    }
  }

  /** The primary named by the majority of the Sentinels that answer (the node, mapping the proxy to redis1). */
  async primary(): Promise<Node | undefined> {
    const votes = new Map<Node, number>();
    for (let i = 0; i < 3; i++) {
      const a = (await this.ask(this.sentinelBase + i, 'SENTINEL', 'get-master-addr-by-name', MASTER)) as
        | [string, string]
        | undefined;
      const port = Number(a?.[1]);
      const node = port === this.proxy?.port ? 'redis1' : NODES[port - this.nodeBase];
      if (node) votes.set(node, (votes.get(node) ?? 0) + 1);
    }
    return [...votes].find(([, n]) => n >= 2)?.[0];
  }

  /** INFO replication of a node, as fields (empty when it does not answer). */
  async replication(node: Node): Promise<Record<string, string>> {
    const text = ((await this.ask(this.port(node), 'INFO', 'replication')) as string | undefined) ?? '';
    return Object.fromEntries(
      text
        .split('\r\n')
        .filter((l) => l.includes(':'))
        .map((l) => l.split(':', 2) as [string, string]),
    );
  }

  /** Polls until `check` is true; the elapsed ms, or throws after `ms`. */
  async until(what: string, check: () => Promise<boolean>, ms = 60_000): Promise<number> {
    const t0 = Date.now();
    while (!(await check())) {
      if (Date.now() - t0 > ms) throw new Error(`${what}: not within ${ms} ms (state in ${this.home})`);
      await sleep(100);
    }
    return Date.now() - t0;
  }

  pid(service: string): number {
    return Number(readFileSync(join(this.home, 'run', `${service}.pid`), 'utf8'));
  }

  /** kill -9 a node (no shutdown, no final fsync) and wait until it is gone. */
  async kill(node: Node): Promise<void> {
    const pid = this.pid(node);
    process.kill(pid, 'SIGKILL');
    await this.until(`${node} (pid ${pid}) gone`, async () => {
      try {
        process.kill(pid, 0);
        return false;
      } catch {
        return true;
      }
    });
  }

  /** Starts a node again through the stack; it returns once the node is a linked replica (or the primary). */
  async restart(node: Node): Promise<void> {
    await this.stack('up', node);
  }

  async stop(): Promise<void> {
    await this.stack('down', ...NODES, ...SENTINELS).catch((err) => console.log(String(err)));
    await this.proxy?.stop();
    live.delete(this.home);
    rmSync(this.home, { recursive: true, force: true });
  }
}
