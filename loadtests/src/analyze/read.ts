/** Reads one results folder: meta.json, k6's summary and per-sample CSV, the scraped metrics, the rows. */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readSeconds, readSummary, type Second, type Summary } from '../k6data.ts';
import type { RowStats } from '../rows.ts';
import { Scraped } from '../scraped.ts';
import type { Meta, Window } from './types.ts';

interface Results {
  meta: Meta;
  summary?: Summary;
  seconds: Second[];
  scraped: Scraped;
  rows?: RowStats;
  window?: Window;
}

async function readJson<T>(file: string): Promise<T | undefined> {
  if (!existsSync(file)) return undefined;
  return JSON.parse(await readFile(file, 'utf8')) as T;
}

/** The seconds that carried issue requests. */
export const loaded = (seconds: Second[]) => seconds.filter((s) => s.reqs > 0);

export async function readResults(dir: string): Promise<Results> {
  const meta = (await readJson<Meta>(join(dir, 'meta.json'))) ?? { suite: 'unknown' };
  const summary = existsSync(join(dir, 'summary.json'))
    ? await readSummary(join(dir, 'summary.json'))
    : undefined;
  const csv = ['samples.csv.gz', 'samples.csv'].map((f) => join(dir, f)).find((f) => existsSync(f));
  const seconds = csv ? await readSeconds(csv) : [];
  const scraped = await Scraped.read(join(dir, 'metrics.jsonl'));
  const rows = await readJson<RowStats>(join(dir, 'rows.json'));
  const load = loaded(seconds);
  const first = load[0];
  const last = load.at(-1);
  const window: Window | undefined = first && last ? [first.t * 1000, last.t * 1000 + 999] : undefined;
  return { meta, summary, seconds, scraped, rows, window };
}
