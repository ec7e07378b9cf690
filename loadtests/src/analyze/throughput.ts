/** Requests per second (mean over the loaded seconds, busiest second) and the answers k6 counted. */
import { issueMetric, num, OUTCOMES, type Outcome, type Summary } from '../k6data.ts';
import { type Prom, peak } from '../promql.ts';
import { loaded } from './read.ts';
import type { Answers, Throughput, Window } from './types.ts';

export function throughput(
  summary: Summary | undefined,
  prom: Prom,
  window: Window | undefined,
): { requests?: number; throughput: Throughput } {
  const reqs = summary ? issueMetric(summary, 'http_reqs') : undefined;
  const requests = num(reqs, 'count');
  const busiest = peak(loaded(prom));
  // Mean over the seconds that carried load (k6's own http_reqs rate also counts setup and teardown).
  const durationS = window ? Math.round((window[1] - window[0]) / 1000) : undefined;
  return {
    requests,
    throughput: {
      mean: requests !== undefined && durationS ? requests / durationS : num(reqs, 'rate'),
      peak: busiest?.v,
      peakAt: busiest && window ? Math.round((busiest.t - window[0]) / 1000) : undefined,
      durationS,
    },
  };
}

export function answers(summary: Summary | undefined): Answers {
  const count = (k: string) => num(summary?.metrics[k], 'count') ?? 0;
  const total = Object.keys(OUTCOMES).reduce((a, k) => a + count(k), 0);
  const outcomes = (Object.entries(OUTCOMES) as [Outcome, string][]).map(([k, label]) => ({
    label,
    count: count(k),
    share: total > 0 ? count(k) / total : 0,
  }));
  const failed = summary ? issueMetric(summary, 'http_req_failed') : undefined;
  const checks = summary?.metrics.checks;
  return {
    outcomes,
    failedRate: num(failed, 'value') ?? num(failed, 'rate'),
    dropped: num(summary?.metrics.dropped_iterations, 'count') ?? 0,
    checks: checks ? { passes: num(checks, 'passes') ?? 0, fails: num(checks, 'fails') ?? 0 } : undefined,
  };
}

/** Answers other than 202 and 409. */
export const unexpected = (a: Answers) =>
  a.outcomes
    .filter((o) => !o.label.startsWith('202') && !o.label.startsWith('409'))
    .reduce((x, o) => x + o.count, 0);
