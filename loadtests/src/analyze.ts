/** Turns one results folder into the figures, the bottleneck signals and the findings of the report. */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  failedThresholds,
  issueMetric,
  num,
  OUTCOMES,
  type Outcome,
  readSeconds,
  readSummary,
  type Second,
  type Summary,
} from './k6data.ts';
import type { RowStats } from './rows.ts';
import { mean, Scraped, within } from './scraped.ts';

/** The seed report's figures (shared/seed/load-test-report.ko.md), in ms and req/s. */
export type StatKey = 'min' | 'p50' | 'p80' | 'p90' | 'p95' | 'p99' | 'max' | 'mean';

export const SEED: {
  requests: number;
  errors: number;
  duration: Record<StatKey, number>;
  blocked: Partial<Record<StatKey, number>>;
  throughput: { mean: number; peak: number };
} = {
  requests: 259_802,
  errors: 0,
  duration: { min: 0.11, p50: 0.3, p80: 0.53, p90: 1.04, p95: 2.64, p99: 57.53, max: 178.02, mean: 1.81 },
  blocked: { mean: 0.01, p80: 0.0, p90: 0.0, p95: 0.01, p99: 0.1, max: 13.05 },
  throughput: { mean: 2150, peak: 5130 },
};

/** The issue's targets for the seed scenario. */
export const TARGETS = {
  p95: 2.64,
  p99: 10,
  max: 100,
  rows: 25_000,
  eventToRowP99Ms: 1000,
  rssMb: 200,
};

export const STATS: { key: StatKey; label: string; k6: string }[] = [
  { key: 'min', label: 'min', k6: 'min' },
  { key: 'p50', label: 'p50 (median)', k6: 'med' },
  { key: 'p80', label: 'p80', k6: 'p(80)' },
  { key: 'p90', label: 'p90', k6: 'p(90)' },
  { key: 'p95', label: 'p95', k6: 'p(95)' },
  { key: 'p99', label: 'p99', k6: 'p(99)' },
  { key: 'max', label: 'max', k6: 'max' },
  { key: 'mean', label: 'mean', k6: 'avg' },
];

export interface Meta {
  suite: string;
  startedAt?: string;
  finishedAt?: string;
  k6Exit?: number;
  gitRev?: string;
  k6Version?: string;
  baseUrl?: string;
  args?: string[];
  host?: string;
  loadavg?: number[];
}

export interface LatencyRow {
  key: StatKey;
  label: string;
  value?: number;
  seed?: number;
  target?: number;
}

export interface Signal {
  /** What is measured (the seed report's vocabulary where it has one). */
  name: string;
  /** The measured value as text, or "not exported". */
  value: string;
  /** Where it comes from. */
  source: string;
}

export interface TargetCheck {
  name: string;
  target: string;
  measured: string;
  ok: boolean | undefined;
}

export interface ProcUsage {
  name: string;
  cpuMean?: number;
  cpuPeak?: number;
  rssPeakMb?: number;
}

export interface Analysis {
  meta: Meta;
  dir: string;
  summary?: Summary;
  seconds: Second[];
  scraped: Scraped;
  rows?: RowStats;
  window?: [number, number];
  requests?: number;
  latency: LatencyRow[];
  blocked: LatencyRow[];
  throughput: { mean?: number; peak?: number; peakAt?: number; durationS?: number };
  outcomes: { label: string; count: number; share: number }[];
  failedRate?: number;
  dropped: number;
  checks?: { passes: number; fails: number };
  invariants: {
    quantity?: number;
    admitted?: number;
    persisted?: number;
    dlt?: number;
    /** 202 answers k6 received. */
    accepted: number;
    /** 503 and unexpected answers (timeouts included): the request may or may not have been admitted. */
    ambiguous: number;
    drainSeconds?: number;
    broken: string[];
  };
  thresholdsFailed: string[];
  procs: ProcUsage[];
  /** busy: % of all cores; otherMean: % of one core used by processes outside the test. */
  machine: { cores: number; busyMean?: number; busyPeak?: number; otherMean?: number };
  signals: Signal[];
  findings: string[];
  targets: TargetCheck[];
  ok: boolean;
}

async function readJson<T>(file: string): Promise<T | undefined> {
  if (!existsSync(file)) return undefined;
  return JSON.parse(await readFile(file, 'utf8')) as T;
}

const ms = (v: number | undefined, digits = 2) => (v === undefined ? 'n/a' : `${v.toFixed(digits)} ms`);
const secs = (v: number | undefined) =>
  v === undefined ? 'n/a' : v < 1 ? `${(v * 1000).toFixed(1)} ms` : `${v.toFixed(2)} s`;
const int = (v: number | undefined) => (v === undefined ? 'n/a' : Math.round(v).toLocaleString('en-US'));
const pct = (v: number | undefined) => (v === undefined ? 'n/a' : `${v.toFixed(0)} %`);
const NOT = 'not exported';

export async function analyze(dir: string): Promise<Analysis> {
  const meta = (await readJson<Meta>(join(dir, 'meta.json'))) ?? { suite: 'unknown' };
  const summary = existsSync(join(dir, 'summary.json'))
    ? await readSummary(join(dir, 'summary.json'))
    : undefined;
  const csv = ['samples.csv.gz', 'samples.csv'].map((f) => join(dir, f)).find((f) => existsSync(f));
  const seconds = csv ? await readSeconds(csv) : [];
  const scraped = await Scraped.read(join(dir, 'metrics.jsonl'));
  const rows = await readJson<RowStats>(join(dir, 'rows.json'));

  const loaded = seconds.filter((s) => s.reqs > 0);
  const first = loaded[0];
  const last = loaded.at(-1);
  const window: [number, number] | undefined =
    first && last ? [first.t * 1000, last.t * 1000 + 999] : undefined;

  const isSeed = meta.suite === 'seed';
  const d = summary ? issueMetric(summary, 'http_req_duration') : undefined;
  const b = summary ? issueMetric(summary, 'http_req_blocked') : undefined;
  const latency: LatencyRow[] = STATS.map((s) => ({
    key: s.key,
    label: s.label,
    value: num(d, s.k6),
    seed: SEED.duration[s.key],
    target: isSeed ? (TARGETS as Record<string, number>)[s.key] : undefined,
  }));
  const blocked: LatencyRow[] = STATS.map((s) => ({
    key: s.key,
    label: s.label,
    value: num(b, s.k6),
    seed: SEED.blocked[s.key],
  }));

  const reqs = summary ? issueMetric(summary, 'http_reqs') : undefined;
  const requests = num(reqs, 'count');
  const peakSecond = loaded.reduce<Second | undefined>(
    (best, s) => (!best || s.reqs > best.reqs ? s : best),
    undefined,
  );
  // Mean over the seconds that carried load (k6's own http_reqs rate also counts setup and teardown).
  const durationS = loaded.length > 0 ? loaded.length : undefined;
  const throughput = {
    mean: requests !== undefined && durationS ? requests / durationS : num(reqs, 'rate'),
    peak: peakSecond?.reqs,
    peakAt: peakSecond && first ? peakSecond.t - first.t : undefined,
    durationS,
  };

  const outcomes: Analysis['outcomes'] = [];
  const totalOutcomes = Object.keys(OUTCOMES).reduce(
    (a, k) => a + (num(summary?.metrics[k], 'count') ?? 0),
    0,
  );
  for (const [k, label] of Object.entries(OUTCOMES) as [Outcome, string][]) {
    const count = num(summary?.metrics[k], 'count') ?? 0;
    outcomes.push({ label, count, share: totalOutcomes > 0 ? count / totalOutcomes : 0 });
  }
  const failed = summary ? issueMetric(summary, 'http_req_failed') : undefined;
  const checksM = summary?.metrics.checks;

  // Invariants: teardown's gauges and the settled stats, cross-checked with the answers k6 counted.
  const g = (n: string) => num(summary?.metrics[n], 'value');
  const count = (n: string) => num(summary?.metrics[n], 'count') ?? 0;
  const accepted = count('issue_accepted');
  // Answers that leave the outcome open: the request may have been admitted after all.
  const ambiguous = count('issue_unavailable') + count('issue_unexpected');
  const final = rows?.final;
  const inv: Analysis['invariants'] = {
    quantity: final?.quantity ?? g('coupon_quantity'),
    admitted: final?.admitted ?? g('coupon_admitted'),
    persisted: final?.persisted ?? g('coupon_persisted'),
    dlt: final?.dlt ?? g('coupon_dlt'),
    accepted,
    ambiguous,
    drainSeconds: g('coupon_drain_seconds'),
    broken: [],
  };
  const { quantity, admitted, persisted, dlt } = inv;
  if (summary && admitted === undefined) inv.broken.push('teardown did not report the coupon stats');
  if (admitted !== undefined) {
    if (quantity !== undefined && admitted > quantity)
      inv.broken.push(`over-issue: ${int(admitted)} admitted for ${int(quantity)}`);
    if (admitted < accepted)
      inv.broken.push(`k6 received ${int(accepted)} answers 202 but the gate admitted only ${int(admitted)}`);
    if (admitted - accepted > ambiguous)
      inv.broken.push(
        `the gate admitted ${int(admitted)} users: ${int(admitted - accepted - ambiguous)} more than the 202s and the ${int(ambiguous)} answers without a definite outcome`,
      );
    if (persisted !== undefined && persisted + (dlt ?? 0) !== admitted)
      inv.broken.push(`loss: ${int(admitted)} admitted, ${int(persisted)} rows + ${int(dlt)} in the DLT`);
  }
  if (rows && persisted !== undefined && final && rows.rows !== persisted)
    inv.broken.push(`stats say ${int(persisted)} rows, the table has ${int(rows.rows)}`);
  if (rows && quantity !== undefined && rows.rows > quantity)
    inv.broken.push(`over-issue: ${int(rows.rows)} rows for ${int(quantity)}`);
  if (rows && rows.distinctUsers !== rows.rows)
    inv.broken.push(`duplicate rows: ${rows.rows} rows for ${rows.distinctUsers} users`);
  const violations = count('invariant_violations');
  if (violations > 0) inv.broken.push(`${violations} check(s) failed in teardown (see k6.log)`);

  // Processes: CPU (% of one core) and RSS during the load.
  const procs: ProcUsage[] = [];
  for (const name of scraped.procs.keys()) {
    const cpu = within(scraped.procCpu(name), window);
    const rss = within(scraped.procRss(name), window);
    procs.push({
      name,
      cpuMean: mean(cpu),
      cpuPeak: scraped.max(cpu)?.v,
      rssPeakMb: scraped.max(rss.length > 0 ? rss : scraped.procRss(name))?.v,
    });
  }
  procs.sort((x, y) => (y.cpuMean ?? 0) - (x.cpuMean ?? 0));
  const busy = within(scraped.machineBusy(), window);
  // Whatever the machine spent outside the processes under test (other jobs on a shared box).
  const tracked = procs.reduce((a, p) => a + (p.cpuMean ?? 0), 0);
  const busyMean = mean(busy);
  const machine = {
    cores: scraped.cores,
    busyMean,
    busyPeak: scraped.max(busy)?.v,
    otherMean: busyMean === undefined ? undefined : Math.max(0, busyMean * scraped.cores - tracked),
  };

  const { signals, findings } = bottlenecks({
    scraped,
    window,
    latency,
    blocked,
    procs,
    machine,
    rows,
    isSeed,
    inv,
  });

  const targets: TargetCheck[] = [];
  if (isSeed) {
    const unexpected = outcomes
      .filter((o) => !o.label.startsWith('202') && !o.label.startsWith('409'))
      .reduce((a, o) => a + o.count, 0);
    const dropped = num(summary?.metrics.dropped_iterations, 'count') ?? 0;
    const p = (k: StatKey) => latency.find((l) => l.key === k)?.value;
    const le = (v: number | undefined, t: number) => (v === undefined ? undefined : v <= t);
    targets.push(
      { name: 'unexpected statuses', target: '0', measured: int(unexpected), ok: unexpected === 0 },
      { name: 'dropped iterations', target: '0', measured: int(dropped), ok: dropped === 0 },
      { name: 'p95', target: `≤ ${TARGETS.p95} ms`, measured: ms(p('p95')), ok: le(p('p95'), TARGETS.p95) },
      { name: 'p99', target: `≤ ${TARGETS.p99} ms`, measured: ms(p('p99')), ok: le(p('p99'), TARGETS.p99) },
      { name: 'max', target: `≤ ${TARGETS.max} ms`, measured: ms(p('max')), ok: le(p('max'), TARGETS.max) },
      {
        name: 'rows',
        target: `exactly ${int(TARGETS.rows)}`,
        measured: int(rows?.rows ?? inv.persisted),
        ok: (rows?.rows ?? inv.persisted) === TARGETS.rows,
      },
    );
    const e2r = rows?.eventToRow?.p99;
    targets.push({
      name: 'event-to-row p99',
      target: '≤ 1 s',
      measured: ms(e2r, 1),
      ok: le(e2r, TARGETS.eventToRowP99Ms),
    });
    for (const svc of ['gateway', 'issuer', 'persister']) {
      const r = procs.find((x) => x.name === svc)?.rssPeakMb;
      targets.push({
        name: `RSS ${svc}`,
        target: `≤ ${TARGETS.rssMb} MB`,
        measured: r === undefined ? 'n/a' : `${r.toFixed(0)} MB`,
        ok: le(r, TARGETS.rssMb),
      });
    }
  }

  const thresholdsFailed = summary ? failedThresholds(summary) : ['no summary.json: k6 did not finish'];
  return {
    meta,
    dir,
    summary,
    seconds,
    scraped,
    rows,
    window,
    requests,
    latency,
    blocked,
    throughput,
    outcomes,
    failedRate: num(failed, 'value') ?? num(failed, 'rate'),
    dropped: num(summary?.metrics.dropped_iterations, 'count') ?? 0,
    checks: checksM ? { passes: num(checksM, 'passes') ?? 0, fails: num(checksM, 'fails') ?? 0 } : undefined,
    invariants: inv,
    thresholdsFailed,
    procs,
    machine,
    signals,
    findings,
    targets,
    ok: inv.broken.length === 0 && thresholdsFailed.length === 0,
  };
}

interface BottleneckInput {
  scraped: Scraped;
  window?: [number, number];
  latency: LatencyRow[];
  blocked: LatencyRow[];
  procs: ProcUsage[];
  machine: Analysis['machine'];
  rows?: RowStats;
  isSeed: boolean;
  inv: Analysis['invariants'];
}

/** The seed report's signals, read from whatever the services export, and findings written from them. */
function bottlenecks(x: BottleneckInput): { signals: Signal[]; findings: string[] } {
  const { scraped: m, window } = x;
  const signals: Signal[] = [];
  const findings: string[] = [];
  const scrapedAny = m.services.size > 0;
  const lat = (k: StatKey) => x.latency.find((l) => l.key === k)?.value;

  // --- DB connection pool (HikariCP's signals in the seed report) ---
  for (const svc of ['persister', 'issuer']) {
    if (!m.has(svc, 'db_pool_connections_active')) {
      signals.push({
        name: `${svc}: DB pool active / max (peak)`,
        value: NOT,
        source: 'db_pool_connections_active',
      });
      continue;
    }
    const active = m.max(m.series(svc, 'db_pool_connections_active'));
    const max = m.max(m.series(svc, 'db_pool_connections_max'))?.v;
    const pending = m.max(m.series(svc, 'db_pool_connections_pending'))?.v;
    signals.push({
      name: `${svc}: DB pool active / max (peak)`,
      value: `${int(active?.v)} / ${int(max)}${pending !== undefined ? `, ${int(pending)} waiting at peak` : ''}`,
      source: 'db_pool_connections_active, _max, _pending',
    });
    const timeouts = m.increase(svc, 'db_pool_acquire_timeouts_total');
    signals.push({
      name: `${svc}: pool acquire timeouts`,
      value: timeouts === undefined ? NOT : int(timeouts),
      source: 'db_pool_acquire_timeouts_total',
    });
    const acq = m.histQuantile(svc, 'db_pool_acquire_seconds', 0.99);
    signals.push({
      name: `${svc}: pool acquire p99`,
      value: acq === undefined ? NOT : secs(acq),
      source: 'db_pool_acquire_seconds',
    });
    if (svc === 'persister' && active && max !== undefined) {
      if (active.v >= max || (timeouts ?? 0) > 0) {
        findings.push(
          `**DB connection pool saturated (the seed's main cause).** The persister's pool reached ${int(active.v)} of ${int(max)} connections` +
            `${pending ? ` with ${int(pending)} callers waiting` : ''}${timeouts ? ` and ${int(timeouts)} acquisitions timed out` : ''}. ` +
            'Inserts queue behind the pool; raise DB_POOL_SIZE or lower PARTITIONS_CONCURRENCY so that concurrent batches never outnumber connections.',
        );
      } else {
        findings.push(
          `**DB pool not a bottleneck.** The persister used at most ${int(active.v)} of ${int(max)} connections, ` +
            `${pending ? `${int(pending)} caller(s) waiting at the worst scrape (a connection being opened)` : 'with no waiter'} and no acquisition timeout ` +
            "(the seed's pool of 3 was exhausted; batching writes thousands of rows per connection round trip).",
        );
      }
    }
  }

  // --- Kafka consumer lag ---
  const lag = m.series('persister', 'kafka_consumer_lag');
  if (lag.length === 0) {
    signals.push({ name: 'consumer lag (peak, all partitions)', value: NOT, source: 'kafka_consumer_lag' });
  } else {
    const peak = m.max(lag);
    const end = window?.[1];
    const drained = end !== undefined ? lag.find((p) => p.t > end && p.v === 0) : undefined;
    const atEnd = end !== undefined ? lag.filter((p) => p.t <= end).at(-1) : undefined;
    signals.push({
      name: 'consumer lag (peak, all partitions)',
      value: `${int(peak?.v)} messages${peak && window ? ` at +${((peak.t - window[0]) / 1000).toFixed(0)} s` : ''}`,
      source: 'kafka_consumer_lag',
    });
    if (drained && end !== undefined)
      signals.push({
        name: 'lag back to 0 after the load',
        value: secs((drained.t - end) / 1000),
        source: 'kafka_consumer_lag',
      });
    if ((peak?.v ?? 0) > 500) {
      findings.push(
        `**Kafka consumer lag.** Lag peaked at ${int(peak?.v)} messages (the seed's alert fires above 500)` +
          `${atEnd ? `, ${int(atEnd.v)} still unread when the load stopped` : ''}. The persister's batches ` +
          'did not keep up with admissions at the peak; see its CPU below and the batch duration before adding partitions or consumers.',
      );
    } else if (peak) {
      findings.push(
        `**Kafka consumer kept up.** Lag peaked at ${int(peak.v)} messages (alert threshold 500).`,
      );
    }
  }

  // --- event-to-row ---
  const e2r = m.histQuantile('persister', 'coupon_event_to_row_seconds', 0.99);
  signals.push({
    name: 'event-to-row p99 (metric)',
    value: e2r === undefined ? NOT : secs(e2r),
    source: 'coupon_event_to_row_seconds',
  });
  if (x.rows?.eventToRow) {
    const r = x.rows.eventToRow;
    signals.push({
      name: 'event-to-row from the table (created_at − issued_at)',
      value: `p50 ${ms(r.p50, 0)}, p99 ${ms(r.p99, 0)}, max ${ms(r.max, 0)}`,
      source: 'coupon_issue',
    });
    if (r.p99 > TARGETS.eventToRowP99Ms) {
      findings.push(
        `**Rows arrive late.** Event-to-row p99 is ${ms(r.p99, 0)} (target ≤ 1 s): admitted users wait in Kafka for the persister; this is the consumer lag above.`,
      );
    }
  }

  // --- breaker and rate limiter ---
  if (m.has('gateway', 'circuit_breaker_state')) {
    const state = m.max(m.series('gateway', 'circuit_breaker_state'))?.v ?? 0;
    const opens = m.increase('gateway', 'circuit_breaker_transitions_total', { to: 'open' });
    signals.push({
      name: 'circuit breaker opens',
      value: `${int(opens ?? 0)} (worst state ${state >= 2 ? 'open' : state >= 1 ? 'half-open' : 'closed'})`,
      source: 'circuit_breaker_state, circuit_breaker_transitions_total',
    });
    if ((opens ?? 0) > 0 || state >= 2)
      findings.push(
        `**Circuit breaker opened ${int(opens ?? 0)} time(s)**: issuer calls failed or timed out; those requests got 503.`,
      );
  } else {
    signals.push({ name: 'circuit breaker opens', value: NOT, source: 'circuit_breaker_state' });
  }
  const limited = m.increase('gateway', 'rate_limiter_rejections_total');
  signals.push({
    name: 'rate-limited requests (429)',
    value: limited === undefined ? NOT : int(limited),
    source: 'rate_limiter_rejections_total',
  });
  if ((limited ?? 0) > 0)
    findings.push(
      `**Rate limiter refused ${int(limited)} requests** with 429: the token bucket is smaller than the offered load.`,
    );

  // --- server-side latency vs what k6 saw: the gateway's handler, and the issuer's behind it ---
  const ownLatency = (svc: string): { p50?: number; p99?: number } | undefined => {
    if (!m.has(svc, 'http_server_request_duration_seconds')) {
      signals.push({
        name: `${svc}: own latency of the issue route (p50 / p99)`,
        value: NOT,
        source: 'http_server_request_duration_seconds',
      });
      return undefined;
    }
    let route: string | undefined;
    for (const s of m.scrapes(svc).at(-1)?.samples ?? [])
      if (
        s.name === 'http_server_request_duration_seconds_bucket' &&
        s.labels.method === 'POST' &&
        s.labels.route?.includes('issue')
      )
        route = s.labels.route;
    const filter: Record<string, string> = route ? { route } : {};
    const w: [number, number] | undefined = window && [window[0] - 1500, window[1] + 1500];
    const p50 = m.histQuantile(svc, 'http_server_request_duration_seconds', 0.5, filter, w);
    const p99 = m.histQuantile(svc, 'http_server_request_duration_seconds', 0.99, filter, w);
    // Past 2.5 s only the 5 s bucket is left: the interpolated quantile is a floor, not a measure.
    const capped = (v: number | undefined) =>
      v !== undefined && v > 2.5 ? `≥ 2.5 s (top bucket, ${secs(v)} interpolated)` : secs(v);
    signals.push({
      name: `${svc}: own latency of ${route ?? 'all routes'} (p50 / p99)`,
      value: `${capped(p50)} / ${capped(p99)}`,
      source: 'http_server_request_duration_seconds',
    });
    return { p50, p99 };
  };
  const serverP99 = ownLatency('gateway')?.p99;
  const issuerLat = ownLatency('issuer');
  const producer = m.histQuantile('issuer', 'kafka_producer_send_seconds', 0.99, { result: 'ok' });
  signals.push({
    name: 'issuer: Kafka send p99 (acks=all)',
    value: producer === undefined ? NOT : secs(producer),
    source: 'kafka_producer_send_seconds',
  });

  // --- event loops and GC (prom-client default metrics) ---
  const loopWorst: { svc: string; v: number }[] = [];
  for (const svc of ['gateway', 'issuer', 'persister']) {
    const p99 = m.max(m.series(svc, 'nodejs_eventloop_lag_p99_seconds', {}, window));
    const gc = m.increase(svc, 'nodejs_gc_duration_seconds_sum', {}, window);
    signals.push({
      name: `${svc}: event-loop lag p99 (worst scrape) / GC time`,
      value: p99 === undefined ? NOT : `${secs(p99.v)} / ${gc === undefined ? 'n/a' : secs(gc)}`,
      source: 'nodejs_eventloop_lag_p99_seconds, nodejs_gc_duration_seconds',
    });
    if (p99) loopWorst.push({ svc, v: p99.v });
  }
  for (const [svc, byStatus] of m.failedScrapes) {
    const text = [...byStatus].map(([status, n]) =>
      status === '404' ? `${int(n)} × 404 (no /metrics: not exported)` : `${int(n)} × ${status}`,
    );
    signals.push({ name: `${svc}: failed scrapes`, value: text.join(', '), source: 'GET /metrics' });
  }

  // --- CPU and memory of the box (the seed report asks to watch them: 3.3) ---
  const top = x.procs.filter((p) => p.cpuMean !== undefined).slice(0, 6);
  if (x.machine.busyMean !== undefined) {
    signals.push({
      name: `machine CPU busy (${x.machine.cores} cores), mean / peak`,
      value: `${pct(x.machine.busyMean)} / ${pct(x.machine.busyPeak)}`,
      source: '/proc/stat',
    });
  }
  if (x.machine.otherMean !== undefined)
    signals.push({
      name: 'CPU of processes outside the test (mean, % of one core)',
      value: pct(x.machine.otherMean),
      source: '/proc/stat minus the processes above',
    });
  for (const p of top)
    signals.push({
      name: `${p.name}: CPU mean / peak (% of one core), RSS peak`,
      value: `${pct(p.cpuMean)} / ${pct(p.cpuPeak)}, ${p.rssPeakMb === undefined ? 'n/a' : `${p.rssPeakMb.toFixed(0)} MB`}`,
      source: '/proc/<pid>/stat, status',
    });

  const p99 = lat('p99');
  const saturated = (x.machine.busyPeak ?? 0) >= 90;
  if (p99 !== undefined) {
    const issuerP99 = issuerLat?.p99;
    let where: string;
    if (serverP99 === undefined)
      where =
        'The services export no request histogram, so the tail cannot be split between queueing and handling.';
    else if (serverP99 * 1000 < p99 / 2)
      where =
        `The gateway's handler measured a p99 of ${secs(serverP99)}, far below k6's ${ms(p99)}: the tail is spent before the handler runs ` +
        '(requests waiting in the socket backlog and the event loop while the process waits for a core), not in Redis, Kafka or MySQL.';
    else if (issuerP99 !== undefined && issuerP99 < serverP99 / 2)
      where =
        `The gateway's handler measured a p99 of ${secs(serverP99)} but the issuer behind it only ${secs(issuerP99)}: requests wait inside the gateway ` +
        '(for one of its ISSUER_CONNECTIONS keep-alive connections, or for its event loop), not in Redis or Kafka.';
    else
      where =
        `The gateway's handler measured a p99 of ${secs(serverP99)} and the issuer ${secs(issuerP99)}, close to k6's ${ms(p99)}: the tail is in the issuer ` +
        `(Redis gate and the Kafka acknowledgement; Kafka send p99 ${secs(producer)}).`;
    const loop = loopWorst.sort((a, b) => b.v - a.v)[0];
    const cpuText =
      x.machine.busyPeak !== undefined
        ? ` The ${x.machine.cores} cores were ${pct(x.machine.busyMean)} busy on average and ${pct(x.machine.busyPeak)} at the worst second; ` +
          `the largest consumers were ${top.map((p) => `${p.name} ${pct(p.cpuMean)}`).join(', ')} (mean, % of one core).`
        : '';
    const loopText = loop ? ` Worst event-loop lag p99: ${loop.svc} ${secs(loop.v)}.` : '';
    const other = x.machine.otherMean ?? 0;
    const otherText =
      other >= 25
        ? ` Processes outside the test used ${pct(other)} of a core on average: the machine was shared, so these figures are pessimistic; rerun on a quiet machine.`
        : '';
    findings.unshift(
      `**p99 ${ms(p99)}, max ${ms(lat('max'))}${x.isSeed ? ` (targets ${TARGETS.p99} ms and ${TARGETS.max} ms)` : ''}.** ${where}${cpuText}${loopText}` +
        otherText +
        (saturated
          ? ` **CPU is the bottleneck:** load generator, three Node services, Redis, Kafka and MariaDB share ${x.machine.cores} cores.`
          : ''),
    );
  }
  const bp99 = x.blocked.find((l) => l.key === 'p99')?.value;
  const bmax = x.blocked.find((l) => l.key === 'max')?.value;
  if (bp99 !== undefined)
    findings.push(
      `**Blocked time ${bp99 <= 0.1 ? 'negligible' : 'noticeable'}.** http_req_blocked p99 ${ms(bp99, 3)}, max ${ms(bmax)}: ` +
        (bp99 <= 0.1
          ? 'keep-alive connections were reused, so connection setup is not a bottleneck (as in the seed, 3.2).'
          : 'k6 waited for free connections or sockets; new connections were opened under load.'),
    );
  if (x.inv.drainSeconds !== undefined && x.inv.admitted)
    findings.push(
      `**Persistence caught up ${secs(x.inv.drainSeconds)} after the load ended** (${int(x.inv.persisted)} rows for ${int(x.inv.admitted)} admitted users).`,
    );
  for (const [name, pids] of x.scraped.pids)
    if (pids.size > 1 && name !== 'k6')
      findings.unshift(
        `**${name} restarted during the run** (pids ${[...pids].join(', ')}): someone restarted it, or it crashed; the figures of this run are not comparable.`,
      );
  if (!scrapedAny)
    findings.push(
      'No service metrics were scraped (GET /metrics answered nothing): bottleneck signals are missing.',
    );
  return { signals, findings };
}
