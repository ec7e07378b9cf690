/** Reads k6's --summary-export JSON (its per-second series come from Prometheus: promql.ts). */
import { readFile } from 'node:fs/promises';

/** The issue requests' tag (lib.js ISSUE): setup and teardown calls to the admin API are left out. */
export const ISSUE_TAG = 'issue-async';

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
