import { performance } from 'node:perf_hooks';
import { createPool as createMysqlPool, type Pool as MysqlPool, type PoolConnection } from 'mysql2/promise';
import { isConnectionLost } from './classify.js';

/** HikariCP's knobs under their Hikari names, with the seed report's recommended defaults. */
export interface PoolConfig {
  url: string;
  /** HikariCP maximumPoolSize. The seed ran with 3 and recommends 30+. */
  maximumPoolSize?: number;
  /** HikariCP connectionTimeout: how long acquisition may wait before failing with PoolTimeoutError. */
  connectionTimeoutMs?: number;
  /** HikariCP idleTimeout: idle connections above minimumIdle are closed after this long. */
  idleTimeoutMs?: number;
  /** HikariCP minimumIdle. */
  minimumIdle?: number;
  /** TCP connect timeout for a new connection (a down database fails within this). */
  connectTimeoutMs?: number;
}

/** Metrics hooks; each is optional and called synchronously on the event. */
export interface PoolHooks {
  onAcquire?(ms: number): void;
  onTimeout?(): void;
}

export interface PoolStats {
  active: number;
  idle: number;
  pending: number;
  total: number;
  max: number;
  timeouts: number;
}

/** Acquisition waited longer than connectionTimeout: the pool is exhausted. Retryable. */
export class PoolTimeoutError extends Error {
  readonly retryable = true;
  readonly code = 'POOL_ACQUIRE_TIMEOUT';
  constructor(ms: number, stats: PoolStats) {
    super(
      `ConnectionTimeout: connection is not available, request timed out after ${ms}ms ` +
        `(active=${stats.active}, idle=${stats.idle}, pending=${stats.pending}, max=${stats.max})`,
    );
    this.name = 'PoolTimeoutError';
  }
}

export const POOL_DEFAULTS = {
  maximumPoolSize: 30,
  connectionTimeoutMs: 1_000,
  idleTimeoutMs: 60_000,
  minimumIdle: 2,
  connectTimeoutMs: 2_000,
} as const;

/**
 * A mysql2 pool with what HikariCP gives a Spring service and mysql2 lacks: an acquisition timeout
 * that fails fast with a typed error, and live counters for metrics.
 */
export class DbPool {
  readonly raw: MysqlPool;
  readonly max: number;
  private readonly connectionTimeoutMs: number;
  private active = 0;
  private pending = 0;
  private timeouts = 0;
  /** Open connections and the idle ones among them, kept from mysql2's pool and connection events. */
  private readonly open = new Set<object>();
  private readonly idle = new Set<object>();

  constructor(
    cfg: PoolConfig,
    private readonly hooks: PoolHooks = {},
  ) {
    const c = { ...POOL_DEFAULTS, ...stripUndefined(cfg) };
    this.max = c.maximumPoolSize;
    this.connectionTimeoutMs = c.connectionTimeoutMs;
    this.raw = createMysqlPool({
      uri: cfg.url,
      connectionLimit: c.maximumPoolSize,
      maxIdle: c.minimumIdle,
      idleTimeout: c.idleTimeoutMs,
      connectTimeout: c.connectTimeoutMs,
      waitForConnections: true,
      queueLimit: 0,
      enableKeepAlive: true,
      supportBigNumbers: true,
      timezone: 'Z',
      dateStrings: false,
    });
    this.count(this.raw);
  }

  /**
   * Counts open and idle connections from mysql2's public events: 'connection' (opened), 'acquire'
   * (lent out), 'release' (back in the pool, idle). A connection leaves the pool on its own 'end' or
   * 'error' (the events mysql2 itself removes it on); one the pool closes (idle timeout, a failed
   * reset) ends when the server acknowledges the close, so it counts as open until then.
   */
  private count(pool: MysqlPool): void {
    pool.on('connection', (c) => {
      this.open.add(c);
      const gone = () => {
        this.open.delete(c);
        this.idle.delete(c);
      };
      c.once('end', gone);
      c.once('error', gone);
    });
    pool.on('acquire', (c) => this.idle.delete(c));
    pool.on('release', (c) => {
      if (this.open.has(c)) this.idle.add(c);
    });
  }

  stats(): PoolStats {
    return {
      active: this.active,
      idle: this.idle.size,
      pending: this.pending,
      total: this.open.size,
      max: this.max,
      timeouts: this.timeouts,
    };
  }

  /** Borrows a connection, or throws PoolTimeoutError after connectionTimeout. */
  async acquire(): Promise<PoolConnection> {
    const t0 = performance.now();
    this.pending++;
    const pending = this.raw.getConnection();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new PoolTimeoutError(this.connectionTimeoutMs, this.stats())),
        this.connectionTimeoutMs,
      );
    });
    try {
      const conn = await Promise.race([pending, timeout]);
      this.active++;
      this.hooks.onAcquire?.(performance.now() - t0);
      return conn;
    } catch (err) {
      if (err instanceof PoolTimeoutError) {
        this.timeouts++;
        this.hooks.onTimeout?.();
        // The queued request will still get a connection later: hand it straight back.
        pending.then(
          (c) => c.release(),
          () => undefined,
        );
      }
      throw err;
    } finally {
      clearTimeout(timer);
      this.pending--;
    }
  }

  release(conn: PoolConnection): void {
    this.active--;
    conn.release();
  }

  /** Runs fn with a borrowed connection and always gives it back. */
  async with<T>(fn: (conn: PoolConnection) => Promise<T>): Promise<T> {
    const conn = await this.acquire();
    try {
      return await fn(conn);
    } catch (err) {
      if (isConnectionLost(err)) conn.destroy();
      throw err;
    } finally {
      this.release(conn);
    }
  }

  async ping(): Promise<boolean> {
    try {
      await this.with((c) => c.query('SELECT 1'));
      return true;
    } catch {
      return false;
    }
  }

  end(): Promise<void> {
    return this.raw.end();
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
