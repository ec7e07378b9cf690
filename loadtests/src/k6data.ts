/** Reads k6's results: the --summary-export JSON and the per-sample --out csv (optionally gzipped). */
import { createReadStream, existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';

/** The issue requests' tag (lib.js ISSUE): setup and teardown calls to the admin API are left out. */
const ISSUE_TAG = 'issue-async';

export type Values = Record<string, number | Record<string, boolean> | undefined>;

export interface Summary {
  metrics: Record<string, Values>;
  setup_data?: { couponId?: number; quantity?: number; users?: number };
}

export async function readSummary(file: string): Promise<Summary> {
  return JSON.parse(await readFile(file, 'utf8')) as Summary;
}

/** A metric of the issue requests, falling back to the whole-test metric. */
export function issueMetric(s: Summary, name: string): Values | undefined {
  return s.metrics[`${name}{name:${ISSUE_TAG}}`] ?? s.metrics[name];
}

export function num(v: Values | undefined, key: string): number | undefined {
  const x = v?.[key];
  return typeof x === 'number' ? x : undefined;
}

/** Thresholds that failed, as "metric: expression" (the legacy export marks a failed one true). */
export function failedThresholds(s: Summary): string[] {
  const out: string[] = [];
  for (const [metric, v] of Object.entries(s.metrics)) {
    const th = v.thresholds;
    if (th && typeof th === 'object')
      for (const [expr, failed] of Object.entries(th)) if (failed) out.push(`${metric}: ${expr}`);
  }
  return out;
}

export const OUTCOMES = {
  issue_accepted: '202 accepted',
  issue_sold_out: '409 SOLD_OUT',
  issue_already_issued: '409 ALREADY_ISSUED',
  issue_rate_limited: '429 RATE_LIMITED',
  issue_unavailable: '503 UNAVAILABLE',
  issue_unexpected: 'other (unexpected)',
} as const;
export type Outcome = keyof typeof OUTCOMES;

export interface Second {
  /** Unix seconds. */
  t: number;
  reqs: number;
  outcomes: Partial<Record<Outcome, number>>;
  p50?: number;
  p95?: number;
  p99?: number;
  max?: number;
  dropped: number;
  vus?: number;
}

function pct(sorted: Float64Array, q: number): number | undefined {
  if (sorted.length === 0) return undefined;
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[idx];
}

/** Per-second series of the issue requests from k6's CSV output. */
export async function readSeconds(file: string): Promise<Second[]> {
  if (!existsSync(file)) return [];
  let input: NodeJS.ReadableStream = createReadStream(file);
  if (file.endsWith('.gz')) input = input.pipe(createGunzip());
  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  let col: Record<string, number> | undefined;
  const seconds = new Map<number, Second & { durations: number[] }>();
  const at = (t: number) => {
    const found = seconds.get(t);
    if (found) return found;
    const s: Second & { durations: number[] } = { t, reqs: 0, outcomes: {}, dropped: 0, durations: [] };
    seconds.set(t, s);
    return s;
  };
  for await (const line of lines) {
    const f = line.split(',');
    if (!col) {
      col = Object.fromEntries(f.map((name, i) => [name, i]));
      continue;
    }
    const metric = f[col.metric_name ?? 0] ?? '';
    const t = Number(f[col.timestamp ?? 1]);
    const value = Number(f[col.metric_value ?? 2]);
    const name = f[col.name ?? -1];
    switch (metric) {
      case 'http_reqs':
        if (name === ISSUE_TAG) at(t).reqs += value;
        break;
      case 'http_req_duration':
        if (name === ISSUE_TAG) at(t).durations.push(value);
        break;
      case 'dropped_iterations':
        at(t).dropped += value;
        break;
      case 'vus':
        at(t).vus = value;
        break;
      default:
        if (metric in OUTCOMES) {
          const s = at(t);
          const o = metric as Outcome;
          s.outcomes[o] = (s.outcomes[o] ?? 0) + value;
        }
    }
  }
  const out: Second[] = [];
  for (const s of [...seconds.values()].sort((a, b) => a.t - b.t)) {
    const d = Float64Array.from(s.durations).sort();
    const { durations: _, ...rest } = s;
    out.push({ ...rest, p50: pct(d, 0.5), p95: pct(d, 0.95), p99: pct(d, 0.99), max: d.at(-1) });
  }
  return out;
}
