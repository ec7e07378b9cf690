/** The seed report's signals, read from whatever the services export, and the findings written from them. */

import { int, secs } from '../format.ts';
import type { RowStats } from '../rows.ts';
import type { Scraped } from '../scraped.ts';
import { breaker, rateLimiter } from './edge.ts';
import { host, NODE } from './host.ts';
import { consumerLag, eventToRow } from './kafka.ts';
import { blockedFinding } from './latency.ts';
import { pool } from './pool.ts';
import { resourceSignals } from './resources.ts';
import { runtime } from './runtime.ts';
import { serverLatency } from './server.ts';
import { tailFinding } from './tail.ts';
import type { Invariants, LatencyRow, Machine, ProcUsage, Read, Window } from './types.ts';

interface BottleneckInput {
  scraped: Scraped;
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
  const { scraped: m, window } = x;
  const families = [pool(m), consumerLag(m, window), eventToRow(m, x.rows), breaker(m), rateLimiter(m)];
  const server = serverLatency(m, window);
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
  if (![...m.services.keys()].some((s) => s !== NODE))
    findings.push(
      'No service metrics were scraped (GET /metrics answered nothing): bottleneck signals are missing.',
    );
  return { signals, findings };
}

/** A process seen under more than one pid (k6 aside); listed last-seen first. */
function restarts(m: Scraped): string[] {
  const out: string[] = [];
  for (const [name, pids] of m.pids)
    if (pids.size > 1 && name !== 'k6')
      out.unshift(
        `**${name} restarted during the run** (pids ${[...pids].join(', ')}): someone restarted it, or it crashed; the figures of this run are not comparable.`,
      );
  return out;
}

function drainFinding(inv: Invariants): string[] {
  if (inv.drainSeconds === undefined || !inv.admitted) return [];
  return [
    `**Persistence caught up ${secs(inv.drainSeconds)} after the load ended** (${int(inv.persisted)} rows for ${int(inv.admitted)} admitted users).`,
  ];
}
