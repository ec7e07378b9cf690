/**
 * Writes report.md, report.html and report.json into a results folder, in the seed report's format:
 * overview, latency and blocked tables with the seed's figures beside ours, throughput, answers and
 * errors, bottlenecks from Prometheus's recorded answers (promql.ts), invariants, charts.
 *
 *   node src/report.ts <results dir> [--check]     (--check: exit 1 when a threshold or an invariant failed)
 */
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { type Analysis, analyze } from './analyze.ts';
import { type Chart, charts } from './charts.ts';
import { type Block, toHtml, toMarkdown } from './doc.ts';
import { bottlenecks, invariants } from './report/findings.ts';
import { overview } from './report/overview.ts';
import { performance } from './report/performance.ts';

function buildDoc(a: Analysis, figures: Chart[]): { title: string; blocks: Block[] } {
  const title = `Load test report: ${a.meta.suite} (${a.meta.startedAt ?? 'unknown date'})`;
  const blocks: Block[] = [
    { h: 1, text: title },
    ...overview(a),
    ...performance(a),
    ...bottlenecks(a),
    ...invariants(a),
  ];
  if (figures.length > 0) {
    blocks.push({ h: 2, text: '5. Charts' });
    for (const f of figures) blocks.push({ figure: { title: f.title, svg: f.svg } });
  }
  return { title, blocks };
}

/** Writes the three files; returns the analysis. */
export async function writeReport(dir: string): Promise<Analysis> {
  const a = await analyze(dir);
  const figures = await charts(a);
  const { title, blocks } = buildDoc(a, figures);
  await writeFile(join(dir, 'report.md'), toMarkdown(blocks));
  await writeFile(join(dir, 'report.html'), toHtml(title, blocks));
  const { prom: _p, summary: _s, ...figuresOnly } = a;
  await writeFile(join(dir, 'report.json'), `${JSON.stringify(figuresOnly, null, 2)}\n`);
  return a;
}

if (import.meta.main) {
  const args = process.argv.slice(2);
  const dir = args.find((x) => !x.startsWith('--'));
  if (!dir) {
    console.error('usage: node src/report.ts <results dir> [--check]');
    process.exit(2);
  }
  const a = await writeReport(resolve(dir));
  console.log(`report: ${join(resolve(dir), 'report.md')} and report.html`);
  if (!a.ok) {
    for (const t of a.thresholdsFailed) console.error(`threshold failed: ${t}`);
    for (const b of a.invariants.broken) console.error(`invariant broken: ${b}`);
    if (args.includes('--check')) process.exit(1);
  }
}
