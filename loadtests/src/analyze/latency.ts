/** Latency and blocked time of the issue requests (k6's trend stats) beside the seed's figures. */

import { ms } from '../format.ts';
import { issueMetric, num, type Summary } from '../k6data.ts';
import { LATENCY_TARGETS, LIMITS, SEED, type StatKey } from '../targets.ts';
import type { LatencyRow } from './types.ts';

const STATS: { key: StatKey; label: string; k6: string }[] = [
  { key: 'min', label: 'min', k6: 'min' },
  { key: 'p50', label: 'p50 (median)', k6: 'med' },
  { key: 'p80', label: 'p80', k6: 'p(80)' },
  { key: 'p90', label: 'p90', k6: 'p(90)' },
  { key: 'p95', label: 'p95', k6: 'p(95)' },
  { key: 'p99', label: 'p99', k6: 'p(99)' },
  { key: 'max', label: 'max', k6: 'max' },
  { key: 'mean', label: 'mean', k6: 'avg' },
];

/** http_req_duration with the seed's figures, and the targets in the seed scenario. */
export function latencyRows(summary: Summary | undefined, isSeed: boolean): LatencyRow[] {
  const d = summary ? issueMetric(summary, 'http_req_duration') : undefined;
  return STATS.map((s) => ({
    key: s.key,
    label: s.label,
    value: num(d, s.k6),
    seed: SEED.duration[s.key],
    target: isSeed ? LATENCY_TARGETS[s.key] : undefined,
  }));
}

/** http_req_blocked with the seed's figures. */
export function blockedRows(summary: Summary | undefined): LatencyRow[] {
  const b = summary ? issueMetric(summary, 'http_req_blocked') : undefined;
  return STATS.map((s) => ({ key: s.key, label: s.label, value: num(b, s.k6), seed: SEED.blocked[s.key] }));
}

export const stat = (rows: LatencyRow[], key: StatKey) => rows.find((l) => l.key === key)?.value;

/** Whether k6 waited for connections (the seed report's 3.2). */
export function blockedFinding(blocked: LatencyRow[]): string[] {
  const bp99 = stat(blocked, 'p99');
  if (bp99 === undefined) return [];
  const negligible = bp99 <= LIMITS.blockedNegligibleMs;
  return [
    `**Blocked time ${negligible ? 'negligible' : 'noticeable'}.** http_req_blocked p99 ${ms(bp99, 3)}, max ${ms(stat(blocked, 'max'))}: ` +
      (negligible
        ? 'keep-alive connections were reused, so connection setup is not a bottleneck (as in the seed, 3.2).'
        : 'k6 waited for free connections or sockets; new connections were opened under load.'),
  ];
}
