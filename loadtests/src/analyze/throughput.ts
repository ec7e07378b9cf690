/** Requests per second (mean over the loaded seconds, busiest second) and the answers k6 counted. */
import { issueMetric, num, OUTCOMES, type Outcome, type Second, type Summary } from '../k6data.ts';
import { loaded } from './read.ts';
import type { Answers, Throughput } from './types.ts';

export function throughput(
  summary: Summary | undefined,
  seconds: Second[],
): { requests?: number; throughput: Throughput } {
  const reqs = summary ? issueMetric(summary, 'http_reqs') : undefined;
  const requests = num(reqs, 'count');
  const load = loaded(seconds);
  const first = load[0];
  const peakSecond = load.reduce<Second | undefined>(
    (best, s) => (!best || s.reqs > best.reqs ? s : best),
    undefined,
  );
  // Mean over the seconds that carried load (k6's own http_reqs rate also counts setup and teardown).
  const durationS = load.length > 0 ? load.length : undefined;
  return {
    requests,
    throughput: {
      mean: requests !== undefined && durationS ? requests / durationS : num(reqs, 'rate'),
      peak: peakSecond?.reqs,
      peakAt: peakSecond && first ? peakSecond.t - first.t : undefined,
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
