/** The seed report's signals, read from whatever the services export, and the findings written from them. */

import { int, secs } from '../format.ts';
import type { Prom } from '../promql.ts';
import type { RowStats } from '../rows.ts';
import { breaker, rateLimiter } from './edge.ts';
import { host } from './host.ts';
import { consumerLag, eventToRow } from './kafka.ts';
import { blockedFinding } from './latency.ts';
import { pool } from './pool.ts';
import { resourceSignals } from './resources.ts';
import { runtime } from './runtime.ts';
import { serverLatency } from './server.ts';
import { tailFinding } from './tail.ts';
import type { Invariants, LatencyRow, Machine, ProcUsage, Read, Window } from './types.ts';

interface BottleneckInput {
  prom: Prom;
  window?: Window;
  latency: LatencyRow[];
  blocked: LatencyRow[];
  procs: ProcUsage[];
  machine: Machine;
  rows?: RowStats;
  isSeed: boolean;
  inv: Invariants;
}

export function bottlenecks(x: BottleneckInput): Read {
  const { prom: m, window } = x;
  const families = [pool(m), consumerLag(m, window), eventToRow(m, x.rows), breaker(m), rateLimiter(m)];
  const server = serverLatency(m);
  const loops = runtime(m, window);
  const machine = host(m, window);
  const signals = [
    ...families.flatMap((f) => f.signals),
    ...server.signals,
    ...loops.signals,
    ...resourceSignals(x.procs, x.machine),
    ...machine.signals,
  ];
  const findings = [
    ...restarts(m),
    ...tailFinding({ ...x, server, worstLoop: loops.worstLoop }),
    ...families.flatMap((f) => f.findings),
    ...blockedFinding(x.blocked),
    ...drainFinding(x.inv),
    ...machine.findings,
  ];
  if (!['gateway', 'issuer', 'persister'].some((job) => m.points('up', { job }).some((p) => p.v === 1)))
    findings.push(
      'Prometheus scraped no service (no `up` of gateway, issuer or persister): bottleneck signals are missing.',
    );
  return { signals, findings };
}

/** A process whose start time changed during the run (k6 aside). */
function restarts(m: Prom): string[] {
  const out: string[] = [];
  for (const [name, points] of m.by('procRestarts', 'groupname')) {
    const n = points.at(-1)?.v ?? 0;
    if (n > 0 && name !== 'k6')
      out.push(
        `**${name} restarted during the run** (its start time changed ${n} time(s)): someone restarted it, or it crashed; the figures of this run are not comparable.`,
      );
  }
  return out;
}

function drainFinding(inv: Invariants): string[] {
  if (inv.drainSeconds === undefined || !inv.admitted) return [];
  return [
    `**Persistence caught up ${secs(inv.drainSeconds)} after the load ended** (${int(inv.persisted)} rows for ${int(inv.admitted)} admitted users).`,
  ];
}
