/**
 * What the report reads from Prometheus (the stack's, which scrapes the services, the node exporter and
 * the process exporter, and takes k6's metrics by remote write): one PromQL expression per figure,
 * asked once per run over HTTP (/api/v1/query_range, step 1 s) and kept in the results folder as
 * prometheus.json, so a report can be rebuilt, and tested, from the recorded answers.
 *
 *   node src/promql.ts <results dir> --start <unix s> --end <unix s> --testid <id>   (PROMETHEUS_URL, default :9090)
 *
 * `$range` in an expression is the recorded range (figures over the whole run, asked at its end);
 * `$testid` the run's k6 tag (loadtests/run: its results folder's name), which keeps runs apart.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ISSUE_TAG, OUTCOMES } from './k6data.ts';

/** One series of a range query's answer (Prometheus's matrix: [unix s, "value"] pairs). */
export interface Series {
  metric: Record<string, string>;
  values: [number, string][];
}

/** prometheus.json: the range asked and every query's answer by name. */
export interface Recorded {
  start: number;
  end: number;
  step: number;
  answers: Record<string, Series[]>;
}

export interface Point {
  /** ms */
  t: number;
  v: number;
}

const over = (q: number, histogram: string, match: string, by = 'le') =>
  `histogram_quantile(${q}, sum by (${by}) (increase(${histogram}_bucket{${match}}[$range])))`;
const total = (counter: string, match: string) => `sum(increase(${counter}{${match}}[$range]))`;
/** The process exporter's group, else the Node service's own prom-client metric, as `groupname`. */
const proc = (exporter: string, own: string) =>
  `${exporter} or sum by (groupname) (label_replace(${own}, "groupname", "$1", "service", "(.+)"))`;
const ISSUE_ROUTE = 'method="POST", route=~".*issue.*"';

export const QUERIES: Record<string, string> = {
  // k6 (remote write): raw counters, differenced per second by perSecond().
  reqs: `sum(k6_http_reqs_total{testid="$testid", name="${ISSUE_TAG}"})`,
  ...Object.fromEntries(Object.keys(OUTCOMES).map((k) => [k, `sum(k6_${k}_total{testid="$testid"})`])),
  // Trend stats are cumulative since the start of the run, one series per tag set (lib.js systemTags).
  k6Latency: `{__name__=~"k6_http_req_duration_(p50|p95|p99|max)", testid="$testid", name="${ISSUE_TAG}", expected_response="true"}`,
  ...Object.fromEntries(
    ['persister', 'issuer'].flatMap((s) => [
      [`${s}PoolActive`, `sum(db_pool_connections_active{service="${s}"})`],
      [`${s}PoolMax`, `sum(db_pool_connections_max{service="${s}"})`],
      [`${s}PoolPending`, `sum(db_pool_connections_pending{service="${s}"})`],
      [`${s}PoolTimeouts`, total('db_pool_acquire_timeouts_total', `service="${s}"`)],
      [`${s}PoolAcquireP99`, over(0.99, 'db_pool_acquire_seconds', `service="${s}"`)],
    ]),
  ),
  lag: 'sum(kafka_consumer_lag{service="persister"})',
  rowsPerSecond: 'sum(irate(persister_rows_inserted_total{service="persister"}[3s]))',
  eventToRowP99: over(0.99, 'coupon_event_to_row_seconds', 'service="persister"'),
  breakerState: 'max(circuit_breaker_state{service="gateway"})',
  breakerOpens: total('circuit_breaker_transitions_total', 'service="gateway", to="open"'),
  rateLimited: total('rate_limiter_rejections_total', 'service="gateway"'),
  ...Object.fromEntries(
    ['gateway', 'issuer'].flatMap((s) =>
      (
        [
          ['P50', 0.5],
          ['P99', 0.99],
        ] as const
      ).map(([k, q]) => [
        `${s}${k}`,
        over(q, 'http_server_request_duration_seconds', `service="${s}", ${ISSUE_ROUTE}`, 'le, route'),
      ]),
    ),
  ),
  producerP99: over(0.99, 'kafka_producer_send_seconds', 'service="issuer", result="ok"'),
  loopP99: 'max by (service) (nodejs_eventloop_lag_p99_seconds)',
  gc: 'sum by (service) (increase(nodejs_gc_duration_seconds_sum[$range]))',
  up: 'up',
  // Processes: CPU in % of one core, RSS in MB, restarts (a new start time).
  procCpu: proc(
    'sum by (groupname) (irate(namedprocess_namegroup_cpu_seconds_total[3s])) * 100',
    'irate(process_cpu_seconds_total{service!=""}[3s]) * 100',
  ),
  procRss: proc(
    'sum by (groupname) (namedprocess_namegroup_memory_bytes{memtype="resident"}) / 1048576',
    'process_resident_memory_bytes{service!=""} / 1048576',
  ),
  procRestarts: proc(
    'sum by (groupname) (changes(namedprocess_namegroup_oldest_start_time_seconds[$range]))',
    'changes(process_start_time_seconds{service!=""}[$range])',
  ),
  // The host (node exporter).
  cores: 'count(node_cpu_seconds_total{mode="idle"})',
  hostBusy: '(1 - avg(irate(node_cpu_seconds_total{mode="idle"}[3s]))) * 100',
  hostWaiting: 'irate(node_pressure_cpu_waiting_seconds_total[3s]) * 100',
  hostLoadPerCore: 'node_load1 / scalar(count(node_cpu_seconds_total{mode="idle"}))',
  memTotal: 'node_memory_MemTotal_bytes',
  memAvailable: 'node_memory_MemAvailable_bytes',
  rx: 'sum by (device) (irate(node_network_receive_bytes_total[3s]))',
  tx: 'sum by (device) (irate(node_network_transmit_bytes_total[3s]))',
  link: 'sum by (device) (link_speed_configured_bytes)',
};

/** The recorded answers, read by name. */
export class Prom {
  readonly r: Recorded;
  constructor(r: Recorded = { start: 0, end: 0, step: 1, answers: {} }) {
    this.r = r;
  }

  has(name: string): boolean {
    return (this.r.answers[name] ?? []).length > 0;
  }

  /** The first series (of a sum or a max: the only one) whose labels match, as points in ms. */
  points(name: string, match: Record<string, string> = {}): Point[] {
    const s = (this.r.answers[name] ?? []).find((x) =>
      Object.entries(match).every(([k, v]) => x.metric[k] === v),
    );
    return (s?.values ?? [])
      .map(([t, v]) => ({ t: t * 1000, v: Number(v) }))
      .filter((p) => !Number.isNaN(p.v));
  }

  /** Every series of an answer by one label's value. */
  by(name: string, label: string): Map<string, Point[]> {
    const out = new Map<string, Point[]>();
    for (const s of this.r.answers[name] ?? [])
      out.set(s.metric[label] ?? '', this.points(name, { [label]: s.metric[label] ?? '' }));
    return out;
  }

  /** The last value (a figure over the whole run is asked at its end). */
  value(name: string, match: Record<string, string> = {}): number | undefined {
    return this.points(name, match).at(-1)?.v;
  }
}

export const within = (ps: Point[], w?: [number, number]) =>
  w ? ps.filter((p) => p.t >= w[0] && p.t <= w[1]) : ps;
export const mean = (ps: Point[]) => (ps.length ? ps.reduce((a, p) => a + p.v, 0) / ps.length : undefined);
export const peak = (ps: Point[]) =>
  ps.reduce<Point | undefined>((b, p) => (!b || p.v > b.v ? p : b), undefined);

/** Per-second increase of a cumulative counter between consecutive points (resets skipped). */
export function perSecond(ps: Point[]): Point[] {
  const out: Point[] = [];
  for (let i = 1; i < ps.length; i++) {
    const a = ps[i - 1];
    const b = ps[i];
    if (a && b && b.t > a.t && b.v >= a.v) out.push({ t: b.t, v: ((b.v - a.v) * 1000) / (b.t - a.t) });
  }
  return out;
}

async function queryRange(url: string, expr: string, start: number, end: number, step: number) {
  const q = new URLSearchParams({ query: expr, start: String(start), end: String(end), step: String(step) });
  const res = await fetch(`${url}/api/v1/query_range?${q}`, { signal: AbortSignal.timeout(30_000) });
  const body = (await res.json()) as { status: string; error?: string; data?: { result: Series[] } };
  if (body.status !== 'success') throw new Error(`${expr}: ${body.error ?? res.status}`);
  return body.data?.result ?? [];
}

/** Asks every query over [start, end] and writes prometheus.json into the results folder. */
export async function record(
  dir: string,
  url: string,
  o: { start: number; end: number; testid: string },
): Promise<Recorded> {
  const { start, end } = o;
  const range = `${Math.max(1, Math.ceil(end - start))}s`;
  const answers: Record<string, Series[]> = {};
  for (const [name, expr] of Object.entries(QUERIES))
    answers[name] = await queryRange(
      url,
      expr.replaceAll('$range', range).replaceAll('$testid', o.testid),
      start,
      end,
      1,
    );
  const r: Recorded = { start, end, step: 1, answers };
  await writeFile(join(dir, 'prometheus.json'), `${JSON.stringify(r)}\n`);
  return r;
}

if (import.meta.main) {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { start: { type: 'string' }, end: { type: 'string' }, testid: { type: 'string' } },
  });
  const dir = positionals[0];
  if (!dir || !values.start || !values.end || !values.testid) {
    console.error('usage: node src/promql.ts <results dir> --start <unix s> --end <unix s> --testid <id>');
    process.exit(2);
  }
  const url = process.env.PROMETHEUS_URL ?? `http://127.0.0.1:${process.env.PROMETHEUS_PORT ?? 9090}`;
  await record(dir, url, { start: Number(values.start), end: Number(values.end), testid: values.testid });
}
