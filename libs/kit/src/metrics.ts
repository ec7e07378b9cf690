import type { Hono, MiddlewareHandler } from 'hono';
import { routePath } from 'hono/route';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { Env } from './http.js';

export { Counter, Gauge, Histogram, Registry };

/**
 * HTTP latency buckets, 100 µs to 5 s. The seed measured p50 0.30 ms and p99 57 ms, so the fine end
 * matters; 0.05 is a bucket bound because the p95 alert's threshold is 50 ms.
 */
export const HTTP_BUCKETS = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
];

/** Buckets for waits and short operations measured in seconds (pool acquire, Kafka send, insert), 100 µs to 10 s. */
export const LATENCY_BUCKETS = [
  0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

/** Buckets for batch sizes (messages or rows per batch). */
export const BATCH_SIZE_BUCKETS = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000];

/**
 * One registry per service, never prom-client's global one: tests run the three services in one
 * process, and each must expose only its own series. Default metrics (event loop lag, heap, GC,
 * handles) are collected on scrape; every series carries a `service` label.
 */
export function createRegistry(service: string, opts: { defaultMetrics?: boolean } = {}): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  if (opts.defaultMetrics !== false)
    collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 10 });
  return registry;
}

type Observer = { observe(value: number): void };
type HistogramEntry = { labels: object; bucketValues: Record<string, number>; sum: number; count: number };

/**
 * A histogram child that observes in place: prom-client's own child.observe hashes the label set
 * and allocates on every call (about 1 µs); this increments the child's entry directly (a few ns).
 * prom-client has no public API for this: it relies on prom-client 15's layout (hashMap entries with
 * bucketValues keyed by bound) and checks it once: on any other layout it falls back to
 * histogram.labels(), and metrics.test.ts fails on the real prom-client, so an upgrade that changes
 * the layout is noticed. Not for histograms that are ever reset().
 */
export function boundObserver<T extends string>(
  histogram: Pick<Histogram<T>, 'zero'> & { labels(labels: Partial<Record<T, string>>): Observer },
  labels: Partial<Record<T, string>>,
  buckets: readonly number[],
): Observer {
  histogram.zero(labels);
  const map = (histogram as unknown as { hashMap?: Record<string, HistogramEntry> }).hashMap;
  const entry = map && Object.values(map).find((e) => e.labels === labels);
  const keys = buckets.map(String);
  const usable =
    entry &&
    typeof entry.sum === 'number' &&
    typeof entry.count === 'number' &&
    typeof entry.bucketValues === 'object' &&
    keys.every((k) => entry.bucketValues[k] === 0);
  if (!usable) return histogram.labels(labels);
  const values = entry.bucketValues;
  return {
    observe(v: number): void {
      entry.sum += v;
      entry.count += 1;
      for (let i = 0; i < buckets.length; i++) {
        if (v <= (buckets[i] as number)) {
          values[keys[i] as string] = (values[keys[i] as string] as number) + 1;
          return;
        }
      }
    },
  };
}

/**
 * Middleware observing `http_server_request_duration_seconds{method,route,status}`. `route` is the
 * pattern of the handler that answered (`/coupons/:userId/issue-async`), never the raw path, so the
 * label set stays bounded. Children are bound once per method/route/status and cached in nested maps:
 * the hot path does three map lookups and one in-place observe (boundObserver); the only allocation
 * is Hono's routePath() array.
 */
export function httpMetrics(registry: Registry): MiddlewareHandler<Env> {
  const histogram = new Histogram({
    name: 'http_server_request_duration_seconds',
    help: 'Time from routing to the response being ready, by method, route pattern and status (k6 http_req_duration seen from the server).',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: HTTP_BUCKETS,
    registers: [registry],
  });
  const byRoute = new Map<string, Map<string, Map<number, Observer>>>();
  const child = (method: string, route: string, status: number): Observer => {
    let byMethod = byRoute.get(route);
    if (!byMethod) {
      byMethod = new Map();
      byRoute.set(route, byMethod);
    }
    let byStatus = byMethod.get(method);
    if (!byStatus) {
      byStatus = new Map();
      byMethod.set(method, byStatus);
    }
    let observer = byStatus.get(status);
    if (!observer) {
      observer = boundObserver(histogram, { method, route, status: String(status) }, HTTP_BUCKETS);
      byStatus.set(status, observer);
    }
    return observer;
  };
  return async (c, next) => {
    const t0 = performance.now();
    try {
      await next();
    } finally {
      // After next() the route index points at the handler (or middleware) that answered; a path
      // nothing matched ends on the root middleware's pattern, '/*'.
      child(c.req.method, routePath(c) || 'unmatched', c.res.status).observe(
        (performance.now() - t0) / 1_000,
      );
    }
  };
}

/** GET /metrics in the Prometheus text format. */
export function metricsRoute(app: Hono<Env>, registry: Registry): void {
  app.get('/metrics', async (c) =>
    c.body(await registry.metrics(), 200, { 'content-type': registry.contentType }),
  );
}

/**
 * Call first thing after `new Hono()`: serves /metrics (registered before the middleware, so scrapes
 * are not themselves observed; `serveMetrics: false` when another listener serves them) and times
 * every other request.
 */
export function instrumentApp(
  app: Hono<Env>,
  registry: Registry,
  opts: { serveMetrics?: boolean } = {},
): void {
  if (opts.serveMetrics ?? true) metricsRoute(app, registry);
  app.use(httpMetrics(registry));
}

/** What pool metrics read on scrape; @coupon/db's DbPool has it. */
export interface PoolStatsSource {
  stats(): { active: number; idle: number; pending: number; total: number; max: number };
}

export interface PoolMetrics {
  /** Pass to the pool's constructor (DbPool's PoolHooks). */
  hooks: { onAcquire(ms: number): void; onTimeout(): void };
  /** The pool whose stats the gauges read on scrape. */
  watch(pool: PoolStatsSource): void;
}

/**
 * Connection pool metrics under HikariCP's meaning, so the seed report's signals and Spring
 * dashboards translate one to one. Gauges read DbPool.stats() on scrape; nothing runs per query
 * beyond one histogram observe per acquisition.
 */
export function createPoolMetrics(registry: Registry): PoolMetrics {
  let pool: PoolStatsSource | undefined;
  const gauge = (name: string, help: string, read: (s: ReturnType<PoolStatsSource['stats']>) => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        if (pool) this.set(read(pool.stats()));
      },
    });
  gauge(
    'db_pool_connections_active',
    'Connections lent out now (hikaricp_connections_active).',
    (s) => s.active,
  );
  gauge(
    'db_pool_connections_idle',
    'Open connections waiting in the pool (hikaricp_connections_idle).',
    (s) => s.idle,
  );
  gauge(
    'db_pool_connections_pending',
    'Callers waiting for a connection (hikaricp_connections_pending).',
    (s) => s.pending,
  );
  gauge('db_pool_connections_max', 'maximumPoolSize (hikaricp_connections_max).', (s) => s.max);
  gauge('db_pool_connections', 'Open connections, active and idle (hikaricp_connections).', (s) => s.total);
  const acquire = new Histogram({
    name: 'db_pool_acquire_seconds',
    help: 'Time to borrow a connection, successful acquisitions only (hikaricp_connections_acquire_seconds).',
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const timeouts = new Counter({
    name: 'db_pool_acquire_timeouts_total',
    help: 'Acquisitions that waited past connectionTimeout and failed (hikaricp_connections_timeout_total).',
    registers: [registry],
  });
  return {
    hooks: {
      onAcquire: (ms) => acquire.observe(ms / 1_000),
      onTimeout: () => timeouts.inc(),
    },
    watch(p) {
      pool = p;
    },
  };
}
