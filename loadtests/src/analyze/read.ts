/** Reads one results folder: meta.json, k6's summary, Prometheus's recorded answers, the rows. */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readSummary, type Summary } from '../k6data.ts';
import { type Point, Prom, perSecond, type Recorded } from '../promql.ts';
import type { RowStats } from '../rows.ts';
import type { Meta, Window } from './types.ts';

interface Results {
  meta: Meta;
  summary?: Summary;
  prom: Prom;
  rows?: RowStats;
  window?: Window;
}

async function readJson<T>(file: string): Promise<T | undefined> {
  if (!existsSync(file)) return undefined;
  return JSON.parse(await readFile(file, 'utf8')) as T;
}

/** A k6 counter per second: it starts at 0, and its first push covers the second before it. */
export function k6PerSecond(points: Point[]): Point[] {
  const first = points[0];
  return first ? perSecond([{ t: first.t - 1000, v: 0 }, ...points]) : [];
}

/** The seconds that carried issue requests (k6's counter, pushed by remote write). */
export const loaded = (prom: Prom): Point[] => k6PerSecond(prom.points('reqs')).filter((p) => p.v > 0);

export async function readResults(dir: string): Promise<Results> {
  const meta = (await readJson<Meta>(join(dir, 'meta.json'))) ?? { suite: 'unknown' };
  const summary = existsSync(join(dir, 'summary.json'))
    ? await readSummary(join(dir, 'summary.json'))
    : undefined;
  const prom = new Prom(await readJson<Recorded>(join(dir, 'prometheus.json')));
  const rows = await readJson<RowStats>(join(dir, 'rows.json'));
  const load = loaded(prom);
  const first = load[0];
  const last = load.at(-1);
  // A point covers the second before it.
  const window: Window | undefined = first && last ? [first.t - 1000, last.t] : undefined;
  return { meta, summary, prom, rows, window };
}
