/** The seed scenario's targets (targets.ts), each checked against this run. */

import { int, mb, ms } from '../format.ts';
import type { RowStats } from '../rows.ts';
import { TARGETS } from '../targets.ts';
import { stat } from './latency.ts';
import { unexpected } from './throughput.ts';
import type { Answers, Invariants, LatencyRow, ProcUsage, TargetCheck } from './types.ts';

interface CheckInput {
  answers: Answers;
  latency: LatencyRow[];
  rows?: RowStats;
  inv: Invariants;
  procs: ProcUsage[];
}

const le = (v: number | undefined, t: number) => (v === undefined ? undefined : v <= t);

export function seedTargets(x: CheckInput): TargetCheck[] {
  const odd = unexpected(x.answers);
  const { dropped } = x.answers;
  const p = (k: 'p95' | 'p99' | 'max') => stat(x.latency, k);
  const rows = x.rows?.rows ?? x.inv.persisted;
  const e2r = x.rows?.eventToRow?.p99;
  return [
    {
      name: 'unexpected statuses',
      target: `${TARGETS.unexpected}`,
      measured: int(odd),
      ok: odd === TARGETS.unexpected,
    },
    {
      name: 'dropped iterations',
      target: `${TARGETS.dropped}`,
      measured: int(dropped),
      ok: dropped === TARGETS.dropped,
    },
    ...(['p95', 'p99', 'max'] as const).map((k) => ({
      name: k,
      target: `≤ ${TARGETS[k]} ms`,
      measured: ms(p(k)),
      ok: le(p(k), TARGETS[k]),
    })),
    { name: 'rows', target: `exactly ${int(TARGETS.rows)}`, measured: int(rows), ok: rows === TARGETS.rows },
    {
      name: 'event-to-row p99',
      target: `≤ ${TARGETS.eventToRowP99Ms / 1000} s`,
      measured: ms(e2r, 1),
      ok: le(e2r, TARGETS.eventToRowP99Ms),
    },
    ...['gateway', 'issuer', 'persister'].map((svc) => {
      const r = x.procs.find((p) => p.name === svc)?.rssPeakMb;
      return {
        name: `RSS ${svc}`,
        target: `≤ ${TARGETS.rssMb} MB`,
        measured: mb(r),
        ok: le(r, TARGETS.rssMb),
      };
    }),
  ];
}
