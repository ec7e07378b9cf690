import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { issue, type System, startSystem, topics, userIds } from './harness.js';

// The three services' /metrics after a few real requests: the series the alert rules and the
// dashboard rely on exist, carry the right labels, and count what happened.

type Sample = { name: string; labels: Record<string, string>; value: number };
type Scrape = { samples: Sample[]; types: Map<string, string>; text: string };

function parse(text: string): Scrape {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type?.[1] && type[2]) types.set(type[1], type[2]);
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m?.[1] || m[3] === undefined) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"/g))
      if (l[1]) labels[l[1]] = l[2] ?? '';
    samples.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return { samples, types, text };
}

async function scrape(base: string): Promise<Scrape> {
  const res = await fetch(`${base}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('text/plain');
  return parse(await res.text());
}

/** Sum of the samples named `name` whose labels include `labels`; undefined when there is none. */
function value(s: Scrape, name: string, labels: Record<string, string> = {}): number | undefined {
  const hits = s.samples.filter(
    (x) => x.name === name && Object.entries(labels).every(([k, v]) => x.labels[k] === v),
  );
  return hits.length === 0 ? undefined : hits.reduce((a, x) => a + x.value, 0);
}

// ---- metric names referenced by the alert rules and the dashboard ---------------------------

const PROMQL_WORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'and',
  'or',
  'unless',
  'bool',
  'offset',
  'inf',
  'nan',
]);
/** Series Prometheus makes itself, not exported by a service. */
const SYNTHETIC = new Set([
  'up',
  'scrape_duration_seconds',
  'scrape_samples_scraped',
  'ALERTS',
  'ALERTS_FOR_STATE',
]);

/** Metric names in a PromQL expression: identifiers that are not functions, keywords, label names, strings or durations. */
function metricNames(expr: string): string[] {
  const e = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names = new Set<string>();
  for (const m of e.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const before = e[m.index - 1] ?? ' ';
    if (/[0-9.]/.test(before)) continue; // 1e3, 5m
    if (
      e
        .slice(m.index + m[0].length)
        .trimStart()
        .startsWith('(')
    )
      continue; // a function
    if (PROMQL_WORDS.has(m[0].toLowerCase())) continue;
    names.add(m[0]);
  }
  return [...names];
}

/** `expr:` values of a Prometheus rule file: one line, or a block scalar (| or >) indented under it. */
function ruleExprs(yaml: string): string[] {
  const lines = yaml.split('\n');
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const m = /^(\s*)expr:\s*(.*)$/.exec(lines[i] ?? '');
    if (!m) continue;
    const indent = m[1]?.length ?? 0;
    const rest = (m[2] ?? '').trim();
    if (!/^[|>][-+]?$/.test(rest)) {
      out.push(rest.replace(/^'(.*)'$|^"(.*)"$/, '$1$2'));
      continue;
    }
    const block: string[] = [];
    while (
      i + 1 < lines.length &&
      (/^\s*$/.test(lines[i + 1] ?? '') || (/^(\s*)/.exec(lines[i + 1] ?? '')?.[1]?.length ?? 0) > indent)
    ) {
      block.push((lines[++i] ?? '').trim());
    }
    out.push(block.join(' '));
  }
  return out;
}

function dashboardExprs(json: unknown): string[] {
  const out: string[] = [];
  const walk = (x: unknown): void => {
    if (Array.isArray(x)) x.forEach(walk);
    else if (x && typeof x === 'object') {
      for (const [k, v] of Object.entries(x)) {
        if (k === 'expr' && typeof v === 'string') out.push(v);
        else walk(v);
      }
    }
  };
  walk(json);
  return out;
}

/** Names not exported by any scrape; a histogram's _bucket/_sum/_count resolve to the histogram. */
function missing(referenced: Iterable<string>, scrapes: Scrape[]): string[] {
  const exported = (n: string) =>
    scrapes.some((s) => {
      if (s.types.has(n)) return true;
      const base = n.replace(/_(bucket|sum|count)$/, '');
      return base !== n && ['histogram', 'summary'].includes(s.types.get(base) ?? '');
    });
  return [...new Set(referenced)].filter((n) => !SYNTHETIC.has(n) && !exported(n)).sort();
}

const root = new URL('../../', import.meta.url);
const read = (p: string) => readFileSync(new URL(p, root), 'utf8');

// ---------------------------------------------------------------------------------------------

let sys: System;
let gw: Scrape;
let iss: Scrape;
let per: Scrape;
const bases = () => [
  sys.gateway.metricsUrl, // the gateway's own metrics listener, not its public port
  `http://127.0.0.1:${sys.issuer.port}`,
  `http://127.0.0.1:${sys.persister?.port}`,
];

beforeAll(async () => {
  sys = await startSystem();
  const coupon = await sys.admin.createCoupon(1);
  const [a, b] = userIds(2) as [number, number];
  expect((await issue(sys.url, a, coupon.id)).status).toBe(202);
  expect((await issue(sys.url, b, coupon.id)).body.error?.code).toBe('SOLD_OUT');
  expect((await issue(sys.url, a, coupon.id)).body.error?.code).toBe('ALREADY_ISSUED');
  expect((await issue(sys.url, 'abc', coupon.id)).status).toBe(400);
  // expect.poll is for tests only; in a hook vi.waitFor retries the assertion.
  const poll = { timeout: 30_000, interval: 250 };
  await vi.waitFor(
    async () => expect(await sys.admin.stats(coupon.id)).toMatchObject({ persisted: 1 }),
    poll,
  );

  // The offset is committed just after the row; the lag is read from Kafka (cached for 1 s).
  const persisted = async () => {
    per = await scrape(bases()[2] as string);
    return {
      lag: value(per, 'kafka_consumer_lag', { topic: topics().issued }),
      rows: value(per, 'coupon_event_to_row_seconds_count'),
    };
  };
  // Other files of the run write to the same topic (one prefix per run): this persister persists
  // their events too, so at least this coupon's one row.
  await vi.waitFor(async () => {
    const p = await persisted();
    expect(p.lag).toBe(0);
    expect(p.rows).toBeGreaterThanOrEqual(1);
  }, poll);
  [gw, iss] = await Promise.all([scrape(bases()[0] as string), scrape(bases()[1] as string)]);
});
afterAll(async () => {
  await sys?.stop();
});

describe('GET /metrics on every service', () => {
  it('happy: each service exposes its own registry: service label, event loop lag, heap', () => {
    for (const [s, service] of [
      [gw, 'gateway'],
      [iss, 'issuer'],
      [per, 'persister'],
    ] as const) {
      expect(s.samples.length).toBeGreaterThan(50);
      expect(s.samples.filter((x) => x.labels.service !== service)).toEqual([]);
      expect(value(s, 'nodejs_eventloop_lag_p99_seconds')).toBeGreaterThan(0);
      expect(value(s, 'nodejs_heap_size_used_bytes')).toBeGreaterThan(0);
    }
  });

  it('happy: gateway counts each outcome once, times requests by route pattern, breaker closed', () => {
    expect(value(gw, 'coupon_issue_results_total', { outcome: 'issued' })).toBe(1);
    expect(value(gw, 'coupon_issue_results_total', { outcome: 'sold_out' })).toBe(1);
    expect(value(gw, 'coupon_issue_results_total', { outcome: 'already_issued' })).toBe(1);
    expect(value(gw, 'coupon_issue_results_total', { outcome: 'invalid' })).toBe(1);
    expect(value(gw, 'coupon_issue_results_total', { outcome: 'unavailable' })).toBe(0);
    expect(value(gw, 'rate_limiter_rejections_total')).toBe(0);

    const route = { route: '/coupons/:userId/issue-async', method: 'POST' };
    expect(value(gw, 'http_server_request_duration_seconds_count', { ...route, status: '202' })).toBe(1);
    expect(value(gw, 'http_server_request_duration_seconds_count', { ...route, status: '409' })).toBe(2);
    expect(value(gw, 'http_server_request_duration_seconds_count', { ...route, status: '400' })).toBe(1);
    expect(gw.text).not.toMatch(/route="\/coupons\/\d/); // never the raw path
    const le5ms = value(gw, 'http_server_request_duration_seconds_bucket', {
      ...route,
      status: '409',
      le: '5',
    });
    expect(le5ms).toBe(2);

    expect(value(gw, 'circuit_breaker_state', { breaker: 'issuer' })).toBe(0);
    expect(value(gw, 'circuit_breaker_transitions_total', { breaker: 'issuer', to: 'open' })).toBe(0);
  });

  it('happy: issuer sees gate decisions, an acknowledged produce, and its small pool', () => {
    expect(value(iss, 'coupon_gate_outcomes_total', { outcome: 'issued' })).toBe(1);
    expect(value(iss, 'coupon_gate_outcomes_total', { outcome: 'sold_out' })).toBe(1);
    expect(value(iss, 'coupon_gate_outcomes_total', { outcome: 'already_issued' })).toBe(1);
    expect(value(iss, 'kafka_producer_batch_size_sum')).toBe(1);
    expect(value(iss, 'kafka_producer_send_seconds_count', { result: 'ok' })).toBe(1);
    expect(value(iss, 'kafka_producer_failures_total')).toBe(0);
    expect(
      value(iss, 'http_server_request_duration_seconds_count', {
        route: '/internal/issue-batch',
        status: '200',
      }),
    ).toBe(3);
    expect(value(iss, 'db_pool_connections_max')).toBe(5);
    expect(value(iss, 'db_pool_acquire_seconds_count')).toBeGreaterThanOrEqual(1);
  });

  it('happy: persister reports pool, lag per partition back to 0, and the row latency', () => {
    expect(value(per, 'db_pool_connections_max')).toBe(30);
    expect(value(per, 'db_pool_connections_active')).toBe(0);
    expect(value(per, 'db_pool_connections_pending')).toBe(0);
    expect(value(per, 'db_pool_acquire_seconds_count')).toBeGreaterThanOrEqual(1);
    expect(value(per, 'db_pool_acquire_timeouts_total')).toBe(0);

    const lag = per.samples.filter(
      (x) => x.name === 'kafka_consumer_lag' && x.labels.topic === topics().issued,
    );
    expect(lag.map((x) => x.labels.partition).sort()).toEqual(['0', '1', '2', '3', '4', '5']);
    expect(lag.map((x) => x.value)).toEqual(lag.map(() => 0));
    expect(value(per, 'kafka_consumer_lag_errors_total')).toBe(0);

    expect(value(per, 'coupon_event_to_row_seconds_count')).toBeGreaterThanOrEqual(1);
    const sum = value(per, 'coupon_event_to_row_seconds_sum') ?? -1;
    expect(sum).toBeGreaterThan(0);
    expect(sum).toBeLessThan(60);
    expect(value(per, 'persister_batch_size_count')).toBeGreaterThanOrEqual(1);
    expect(value(per, 'persister_rows_inserted_total')).toBeGreaterThanOrEqual(1);
    expect(value(per, 'persister_dlt_events_total')).toBe(0);
    expect(value(per, 'persister_retries_total')).toBe(0);
  });
});

describe('metric names in the alert rules and the dashboard', () => {
  it('error: the name check itself flags a name no service exports', () => {
    expect(
      metricNames(
        'sum by (le, service) (rate(foo_seconds_bucket{a="b"}[5m])) / on(x) bar_total offset 5m > 1e3',
      ),
    ).toEqual(['foo_seconds_bucket', 'bar_total']);
    expect(
      missing(['http_server_request_duration_seconds_bucket', 'no_such_metric_total', 'up'], [gw]),
    ).toEqual(['no_such_metric_total']);
  });

  it('happy: every metric an alert rule references is exported by a running service', () => {
    const rules = read('infra/prometheus/rules/coupon.rules.yml');
    const exprs = ruleExprs(rules);
    expect(exprs).toHaveLength(rules.match(/^\s*- alert:/gm)?.length ?? -1);
    const names = exprs.flatMap(metricNames);
    expect(names).toEqual(
      expect.arrayContaining([
        'http_server_request_duration_seconds_bucket',
        'db_pool_connections_active',
        'kafka_consumer_lag',
        'up',
      ]),
    );
    expect(missing(names, [gw, iss, per])).toEqual([]);
  });

  it('happy: every metric a dashboard panel queries is exported by a running service', () => {
    const exprs = dashboardExprs(JSON.parse(read('infra/grafana/dashboards/coupon.json')));
    expect(exprs.length).toBeGreaterThan(10);
    const names = exprs.flatMap(metricNames);
    expect(names).toEqual(
      expect.arrayContaining([
        'circuit_breaker_state',
        'persister_dlt_events_total',
        'coupon_event_to_row_seconds_bucket',
      ]),
    );
    expect(missing(names, [gw, iss, per])).toEqual([]);
  });
});
