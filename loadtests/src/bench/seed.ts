/** Step 5: the seed scenario (loadtests/run seed); the figures of its report.json. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DRY, plan, ROOT, run } from './config.ts';

/** The part of report.json the bench reads. */
export interface SeedReport {
  latency: { key: string; value?: number }[];
  rows?: { rows: number; eventToRow?: { p99: number; p50: number; max: number } };
  procs: { name: string; rssPeakMb?: number }[];
  ok: boolean;
  dropped: number;
  throughput: { mean?: number; peak?: number };
}

export async function seedScenario(dir: string): Promise<SeedReport> {
  const out = join(dir, 'seed');
  const script = join(ROOT, 'loadtests/run');
  if (DRY) {
    plan(`RESULTS_DIR=${out} ${script} seed --quiet (at most 400 s)`);
    return { latency: [], procs: [], ok: true, dropped: 0, throughput: {} };
  }
  await run(script, ['seed', '--quiet'], 400_000, { ...process.env, RESULTS_DIR: out });
  return JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as SeedReport;
}
