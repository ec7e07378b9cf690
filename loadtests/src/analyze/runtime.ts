/** The Node runtimes: event-loop lag and GC (prom-client's default metrics), and failed scrapes. */
import { int, NOT, secs } from '../format.ts';
import { type Prom, peak, within } from '../promql.ts';
import type { Signal, Window } from './types.ts';

export interface Runtime {
  signals: Signal[];
  /** The service with the worst event-loop lag p99, if any exports it. */
  worstLoop?: { svc: string; v: number };
}

export function runtime(m: Prom, window: Window | undefined): Runtime {
  const signals: Signal[] = [];
  const loops: { svc: string; v: number }[] = [];
  for (const svc of ['gateway', 'issuer', 'persister']) {
    const p99 = peak(within(m.points('loopP99', { service: svc }), window));
    const gc = m.value('gc', { service: svc });
    signals.push({
      name: `${svc}: event-loop lag p99 (worst scrape) / GC time`,
      value: p99 === undefined ? NOT : `${secs(p99.v)} / ${gc === undefined ? 'n/a' : secs(gc)}`,
      source: 'nodejs_eventloop_lag_p99_seconds, nodejs_gc_duration_seconds',
    });
    if (p99) loops.push({ svc, v: p99.v });
  }
  for (const [job, ups] of m.by('up', 'job')) {
    const failed = ups.filter((p) => p.v === 0).length;
    if (failed > 0)
      signals.push({
        name: `${job}: failed scrapes`,
        value: `${int(failed)} of ${int(ups.length)} s`,
        source: 'up',
      });
  }
  return { signals, worstLoop: loops.sort((a, b) => b.v - a.v)[0] };
}
