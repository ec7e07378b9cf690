import { Hono } from 'hono';
import { describe, expect, it, vi } from 'vitest';
import { type Env, fail } from './http.js';
import {
  boundObserver,
  createPoolMetrics,
  createRegistry,
  Histogram,
  HTTP_BUCKETS,
  instrumentApp,
  type Registry,
} from './metrics.js';

/** Values of one metric as [labels, value] pairs, default labels included. */
async function series(registry: Registry, name: string) {
  const m = registry.getSingleMetric(name);
  if (!m) throw new Error(`${name} not registered`);
  return (await m.get()).values as Array<{
    labels: Record<string, string | number>;
    value: number;
    metricName?: string;
  }>;
}

function app(registry: Registry) {
  const a = new Hono<Env>();
  instrumentApp(a, registry);
  a.get('/items/:id', (c) => c.json({ id: c.req.param('id') }));
  a.post('/items/:id', (c) => fail(c, 'SOLD_OUT', 'gone'));
  a.get('/boom', () => {
    throw new Error('boom');
  });
  a.onError((_err, c) => c.json({}, 500));
  return a;
}

describe('createRegistry', () => {
  it('happy: default metrics (event loop lag, heap) and a service label on every series', async () => {
    const registry = createRegistry('svc-a');
    const text = await registry.metrics();
    expect(text).toMatch(/^nodejs_eventloop_lag_seconds\{service="svc-a"\} /m);
    expect(text).toMatch(/^nodejs_heap_size_used_bytes\{service="svc-a"\} /m);
    expect(text).toContain('nodejs_gc_duration_seconds');
  });

  it('happy: registries are separate, so services sharing a process do not see each other', async () => {
    const a = createRegistry('a', { defaultMetrics: false });
    const b = createRegistry('b', { defaultMetrics: false });
    createPoolMetrics(a);
    expect(await a.metrics()).toContain('db_pool_connections_active');
    expect(await b.metrics()).not.toContain('db_pool_connections_active');
  });
});

describe('httpMetrics', () => {
  it('happy: labels by route pattern, not raw path; one series per method/route/status', async () => {
    const registry = createRegistry('t', { defaultMetrics: false });
    const a = app(registry);
    for (const id of ['1', '2', '3']) expect((await a.request(`/items/${id}`)).status).toBe(200);
    expect((await a.request('/items/9', { method: 'POST' })).status).toBe(409);

    const values = await series(registry, 'http_server_request_duration_seconds');
    const counts = values.filter((v) => v.metricName === 'http_server_request_duration_seconds_count');
    expect(counts.map((v) => [v.labels.method, v.labels.route, v.labels.status, v.value])).toEqual([
      ['GET', '/items/:id', '200', 3],
      ['POST', '/items/:id', '409', 1],
    ]);
    expect(values.filter((v) => String(v.labels.route).includes('/items/1'))).toEqual([]);
  });

  it('happy: explicit buckets from 100 µs to 5 s, with 50 ms (the p95 alert threshold) among them', async () => {
    expect(HTTP_BUCKETS[0]).toBe(0.0001);
    expect(HTTP_BUCKETS.at(-1)).toBe(5);
    expect(HTTP_BUCKETS).toContain(0.05);
    const registry = createRegistry('t', { defaultMetrics: false });
    await app(registry).request('/items/1');
    const text = await registry.metrics();
    expect(text).toContain('le="0.0001"');
    expect(text).toContain('le="5"');
  });

  it('error: a handler that throws is observed with the status the error handler answered', async () => {
    const registry = createRegistry('t', { defaultMetrics: false });
    expect((await app(registry).request('/boom')).status).toBe(500);
    const counts = (await series(registry, 'http_server_request_duration_seconds')).filter(
      (v) => v.metricName === 'http_server_request_duration_seconds_count',
    );
    expect(counts.map((v) => [v.labels.route, v.labels.status, v.value])).toEqual([['/boom', '500', 1]]);
  });

  it('error: unmatched paths share one bounded route label instead of one series per path', async () => {
    const registry = createRegistry('t', { defaultMetrics: false });
    const a = app(registry);
    for (const p of ['/nope/1', '/nope/2', '/x']) expect((await a.request(p)).status).toBe(404);
    const counts = (await series(registry, 'http_server_request_duration_seconds')).filter(
      (v) => v.metricName === 'http_server_request_duration_seconds_count',
    );
    expect(counts).toHaveLength(1);
    expect(counts[0]?.value).toBe(3);
    expect(counts[0]?.labels).toMatchObject({ route: '/*', status: '404' });
  });

  it('happy: GET /metrics serves the text format and is not itself observed', async () => {
    const registry = createRegistry('t', { defaultMetrics: false });
    const a = app(registry);
    const res = await a.request('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    await a.request('/metrics');
    expect(await (await a.request('/metrics')).text()).not.toContain('route="/metrics"');
  });
});

describe('boundObserver', () => {
  const make = (registry: Registry) =>
    new Histogram({
      name: 'h',
      help: 'h',
      labelNames: ['a'] as const,
      buckets: HTTP_BUCKETS,
      registers: [registry],
    });
  const samples = [0.00005, 0.0001, 0.0003, 0.05, 0.051, 4.9, 5, 7, 120];

  it("happy: exports exactly what prom-client's own child.observe exports", async () => {
    const ours = createRegistry('t', { defaultMetrics: false });
    const theirs = createRegistry('t', { defaultMetrics: false });
    const fast = boundObserver(make(ours), { a: 'x' }, HTTP_BUCKETS);
    const slow = make(theirs).labels('x');
    for (const v of samples) {
      fast.observe(v);
      slow.observe(v);
    }
    expect(await ours.metrics()).toBe(await theirs.metrics());
    expect(await ours.metrics()).toContain('h_count{service="t",a="x"} 9');
  });

  it("happy: the installed prom-client has the layout it reads (fails when prom-client's internals change)", () => {
    const h = make(createRegistry('t', { defaultMetrics: false }));
    h.zero({ a: 'x' });
    const map = (h as unknown as { hashMap: Record<string, Record<string, unknown>> }).hashMap;
    const entry = Object.values(map).find((e) => (e.labels as { a?: string }).a === 'x');
    expect(entry).toMatchObject({ sum: 0, count: 0, bucketValues: expect.any(Object) });
    expect(Object.keys(entry?.bucketValues as object).sort()).toEqual(HTTP_BUCKETS.map(String).sort());
  });

  it('happy: with prom-client 15 it takes the in-place path, not the per-call hashing one', () => {
    const h = make(createRegistry('t', { defaultMetrics: false }));
    const labels = vi.spyOn(h, 'labels');
    const observe = vi.spyOn(h, 'observe');
    boundObserver(h, { a: 'x' }, HTTP_BUCKETS).observe(0.001);
    expect(labels).not.toHaveBeenCalled();
    expect(observe).not.toHaveBeenCalled();
  });

  it("error: falls back to histogram.labels() when prom-client's internals are not the expected ones", () => {
    let observed = 0;
    const fake = {
      zero() {},
      labels: () => ({
        observe: () => {
          observed++;
        },
      }),
    };
    boundObserver(fake, { a: 'x' }, HTTP_BUCKETS).observe(1);
    expect(observed).toBe(1);
  });
});

describe('createPoolMetrics', () => {
  it('happy: gauges read the pool on scrape, under HikariCP meanings', async () => {
    const registry = createRegistry('t', { defaultMetrics: false });
    const m = createPoolMetrics(registry);
    const stats = { active: 3, idle: 1, pending: 7, total: 4, max: 30 };
    m.watch({ stats: () => stats });
    const read = async (name: string) => (await series(registry, name))[0]?.value;
    expect(await read('db_pool_connections_active')).toBe(3);
    expect(await read('db_pool_connections_pending')).toBe(7);
    expect(await read('db_pool_connections_max')).toBe(30);
    stats.active = 30;
    stats.pending = 0;
    expect(await read('db_pool_connections_active')).toBe(30);
    expect(await read('db_pool_connections_pending')).toBe(0);
    expect(await read('db_pool_connections_idle')).toBe(1);
    expect(await read('db_pool_connections')).toBe(4);
    const help = await registry.metrics();
    expect(help).toContain('hikaricp_connections_active');
    expect(help).toContain('hikaricp_connections_timeout_total');
  });

  it('happy: hooks observe acquisition time in seconds and count timeouts', async () => {
    const registry = createRegistry('t', { defaultMetrics: false });
    const m = createPoolMetrics(registry);
    m.hooks.onAcquire(2);
    m.hooks.onAcquire(300);
    m.hooks.onTimeout();
    const acquire = await series(registry, 'db_pool_acquire_seconds');
    expect(acquire.find((v) => v.metricName === 'db_pool_acquire_seconds_count')?.value).toBe(2);
    expect(acquire.find((v) => v.metricName === 'db_pool_acquire_seconds_sum')?.value).toBeCloseTo(0.302);
    expect((await series(registry, 'db_pool_acquire_timeouts_total'))[0]?.value).toBe(1);
  });
});
