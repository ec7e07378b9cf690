/** Reads what scrape.ts wrote: the services' metrics over time, and CPU and memory per process. */
import { createReadStream, existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { buckets, diffBuckets, matches, parseProm, quantile, type Sample } from './prom.ts';

export interface Scrape {
  t: number;
  samples: Sample[];
}

export interface ProcPoint {
  t: number;
  cpu: number;
  rss: number;
}

export interface Point {
  t: number;
  v: number;
}

type Line =
  | { k: 'm'; t: number; s: string; ok: boolean; status?: number; text?: string }
  | { k: 'p'; t: number; n: string; pid: number; cpu: number; rss: number }
  | { k: 'c'; t: number; busy: number; total: number; hz: number; cores: number };

export class Scraped {
  readonly services = new Map<string, Scrape[]>();
  /** Failed scrapes per service, by HTTP status ("error" when there was no answer). */
  readonly failedScrapes = new Map<string, Map<string, number>>();
  readonly procs = new Map<string, ProcPoint[]>();
  /** Every pid seen per process name: more than one means it restarted during the run. */
  readonly pids = new Map<string, Set<number>>();
  readonly cpu: { t: number; busy: number; total: number }[] = [];
  hz = 100;
  cores = 1;

  static async read(file: string): Promise<Scraped> {
    const s = new Scraped();
    if (!existsSync(file)) return s;
    const lines = createInterface({ input: createReadStream(file), crlfDelay: Number.POSITIVE_INFINITY });
    for await (const raw of lines) {
      if (!raw) continue;
      let l: Line;
      try {
        l = JSON.parse(raw) as Line;
      } catch {
        continue; // a line cut short when the scraper was killed
      }
      if (l.k === 'm') {
        if (!l.ok) {
          const byStatus = s.failedScrapes.get(l.s) ?? new Map<string, number>();
          const key = l.status ? String(l.status) : 'error';
          byStatus.set(key, (byStatus.get(key) ?? 0) + 1);
          s.failedScrapes.set(l.s, byStatus);
          continue;
        }
        const list = s.services.get(l.s) ?? [];
        list.push({ t: l.t, samples: parseProm(l.text ?? '') });
        s.services.set(l.s, list);
      } else if (l.k === 'p') {
        const list = s.procs.get(l.n) ?? [];
        list.push({ t: l.t, cpu: l.cpu, rss: l.rss });
        s.procs.set(l.n, list);
        const pids = s.pids.get(l.n) ?? new Set<number>();
        pids.add(l.pid);
        s.pids.set(l.n, pids);
      } else if (l.k === 'c') {
        s.cpu.push({ t: l.t, busy: l.busy, total: l.total });
        s.hz = l.hz;
        s.cores = l.cores;
      }
    }
    return s;
  }

  scrapes(service: string, window?: [number, number]): Scrape[] {
    const all = this.services.get(service) ?? [];
    return window ? all.filter((x) => x.t >= window[0] && x.t <= window[1]) : all;
  }

  /** Does any scrape of the service carry this metric (counter, gauge, or histogram by its base name)? */
  has(service: string, name: string): boolean {
    return this.scrapes(service).some((x) =>
      x.samples.some((s) => s.name === name || s.name === `${name}_bucket` || s.name === `${name}_total`),
    );
  }

  /** Sum of the matching samples at each scrape (scrapes without the metric are left out). */
  series(
    service: string,
    name: string,
    filter: Record<string, string> = {},
    window?: [number, number],
  ): Point[] {
    const out: Point[] = [];
    for (const x of this.scrapes(service, window)) {
      let v = 0;
      let seen = false;
      for (const s of x.samples) {
        if (s.name === name && matches(s.labels, filter)) {
          v += s.value;
          seen = true;
        }
      }
      if (seen) out.push({ t: x.t, v });
    }
    return out;
  }

  /** Increase of a counter over the run (restarts of the service counted as resets). */
  increase(
    service: string,
    name: string,
    filter: Record<string, string> = {},
    window?: [number, number],
  ): number | undefined {
    const s = this.series(service, name, filter, window);
    if (s.length === 0) return undefined;
    let total = 0;
    for (let i = 1; i < s.length; i++) {
      const a = s[i - 1]?.v ?? 0;
      const b = s[i]?.v ?? 0;
      total += b >= a ? b - a : b;
    }
    return total;
  }

  /** Quantile of a histogram over the observations made between the window's first and last scrape. */
  histQuantile(
    service: string,
    name: string,
    q: number,
    filter: Record<string, string> = {},
    window?: [number, number],
  ): number | undefined {
    const xs = this.scrapes(service, window).filter((x) =>
      x.samples.some((s) => s.name === `${name}_bucket`),
    );
    const first = xs[0];
    const last = xs.at(-1);
    if (!first || !last) return undefined;
    const end = buckets(last.samples, name, filter);
    // The first scrape may predate the run (baseline); with a single scrape, count everything.
    const delta = first === last ? end : diffBuckets(end, buckets(first.samples, name, filter));
    return quantile(q, delta);
  }

  max(points: Point[]): Point | undefined {
    let best: Point | undefined;
    for (const p of points) if (!best || p.v > best.v) best = p;
    return best;
  }

  /** CPU of a process in % of one core, per scrape interval. */
  procCpu(name: string): Point[] {
    const ps = this.procs.get(name) ?? [];
    const out: Point[] = [];
    for (let i = 1; i < ps.length; i++) {
      const a = ps[i - 1];
      const b = ps[i];
      if (!a || !b || b.t <= a.t || b.cpu < a.cpu) continue;
      out.push({ t: b.t, v: ((b.cpu - a.cpu) / this.hz / ((b.t - a.t) / 1000)) * 100 });
    }
    return out;
  }

  procRss(name: string): Point[] {
    return (this.procs.get(name) ?? []).map((p) => ({ t: p.t, v: p.rss / 1024 }));
  }

  /** Busy share of the whole machine (all cores), in %, per interval. */
  machineBusy(): Point[] {
    const out: Point[] = [];
    for (let i = 1; i < this.cpu.length; i++) {
      const a = this.cpu[i - 1];
      const b = this.cpu[i];
      if (!a || !b || b.total <= a.total) continue;
      out.push({ t: b.t, v: ((b.busy - a.busy) / (b.total - a.total)) * 100 });
    }
    return out;
  }
}

export function mean(points: Point[]): number | undefined {
  if (points.length === 0) return undefined;
  return points.reduce((a, p) => a + p.v, 0) / points.length;
}

export function within(points: Point[], window?: [number, number]): Point[] {
  return window ? points.filter((p) => p.t >= window[0] && p.t <= window[1]) : points;
}
