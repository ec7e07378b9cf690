/**
 * Turns one results folder into the figures, the bottleneck signals and the findings of the report.
 * One module per signal family under analyze/; the targets are in targets.ts.
 */

import { bottlenecks } from './analyze/bottlenecks.ts';
import { seedTargets } from './analyze/checks.ts';
import { invariants } from './analyze/invariants.ts';
import { blockedRows, latencyRows } from './analyze/latency.ts';
import { readResults } from './analyze/read.ts';
import { usage } from './analyze/resources.ts';
import { answers, throughput } from './analyze/throughput.ts';
import type { Analysis } from './analyze/types.ts';
import { failedThresholds } from './k6data.ts';

export type { Analysis, LatencyRow } from './analyze/types.ts';

export async function analyze(dir: string): Promise<Analysis> {
  const { meta, summary, prom, rows, window } = await readResults(dir);
  const isSeed = meta.suite === 'seed';
  const latency = latencyRows(summary, isSeed);
  const blocked = blockedRows(summary);
  const { requests, throughput: tp } = throughput(summary, prom, window);
  const ans = answers(summary);
  const inv = invariants(summary, rows);
  const { procs, machine } = usage(prom, window);
  const { signals, findings } = bottlenecks({
    prom,
    window,
    latency,
    blocked,
    procs,
    machine,
    rows,
    isSeed,
    inv,
  });
  const targets = isSeed ? seedTargets({ answers: ans, latency, rows, inv, procs }) : [];
  const thresholdsFailed = summary ? failedThresholds(summary) : ['no summary.json: k6 did not finish'];
  // The key order is report.json's.
  return {
    meta,
    dir,
    summary,
    prom,
    rows,
    window,
    requests,
    latency,
    blocked,
    throughput: tp,
    ...ans,
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
