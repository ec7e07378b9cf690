/** The Node runtimes: event-loop lag and GC (prom-client's default metrics), and failed scrapes. */
import { int, NOT, secs } from '../format.ts';
import type { Scraped } from '../scraped.ts';
import type { Signal, Window } from './types.ts';

export interface Runtime {
  signals: Signal[];
  /** The service with the worst event-loop lag p99, if any exports it. */
  worstLoop?: { svc: string; v: number };
}

export function runtime(m: Scraped, window: Window | undefined): Runtime {
  const signals: Signal[] = [];
  const loops: { svc: string; v: number }[] = [];
  for (const svc of ['gateway', 'issuer', 'persister']) {
    const p99 = m.max(m.series(svc, 'nodejs_eventloop_lag_p99_seconds', {}, window));
    const gc = m.increase(svc, 'nodejs_gc_duration_seconds_sum', {}, window);
    signals.push({
      name: `${svc}: event-loop lag p99 (worst scrape) / GC time`,
      value: p99 === undefined ? NOT : `${secs(p99.v)} / ${gc === undefined ? 'n/a' : secs(gc)}`,
      source: 'nodejs_eventloop_lag_p99_seconds, nodejs_gc_duration_seconds',
    });
    if (p99) loops.push({ svc, v: p99.v });
  }
  for (const [svc, byStatus] of m.failedScrapes) {
    const text = [...byStatus].map(([status, n]) =>
      status === '404' ? `${int(n)} × 404 (no /metrics: not exported)` : `${int(n)} × ${status}`,
    );
    signals.push({ name: `${svc}: failed scrapes`, value: text.join(', '), source: 'GET /metrics' });
  }
  return { signals, worstLoop: loops.sort((a, b) => b.v - a.v)[0] };
}
