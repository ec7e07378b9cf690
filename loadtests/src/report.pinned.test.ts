import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeReport } from './report.ts';

// The report of the checked-in smoke run, byte for byte (the charts' SVG aside: vega draws those).
// A change to what the report prints shows here; when it is meant, rewrite the expected files with
// `pnpm exec vitest run --project unit loadtests/src/report.pinned.test.ts -u`.
const FIXTURE = join(import.meta.dirname, '../fixtures/smoke');
const EXPECTED = join(import.meta.dirname, '../fixtures/smoke-report');

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function report(suite?: string): Promise<(file: string) => string> {
  const dir = mkdtempSync(join(tmpdir(), 'coupon-report-'));
  dirs.push(dir);
  cpSync(FIXTURE, dir, { recursive: true });
  if (suite) {
    const meta = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as { suite: string };
    writeFileSync(join(dir, 'meta.json'), JSON.stringify({ ...meta, suite }));
  }
  await writeReport(dir);
  return (file) => readFileSync(join(dir, file), 'utf8').replaceAll(dir, '<dir>');
}

describe('the report of the smoke fixture', () => {
  it('prints the same Markdown, JSON and HTML', async () => {
    const read = await report();
    await expect(read('report.md')).toMatchFileSnapshot(join(EXPECTED, 'report.md'));
    await expect(read('report.json')).toMatchFileSnapshot(join(EXPECTED, 'report.json.snap'));
    const html = read('report.html').replace(/<svg[\s\S]*?<\/svg>/g, '<svg/>');
    await expect(html).toMatchFileSnapshot(join(EXPECTED, 'report.html.snap'));
  }, 60_000);

  it('adds the targets when the suite is the seed scenario', async () => {
    const read = await report('seed');
    await expect(read('report.md')).toMatchFileSnapshot(join(EXPECTED, 'report.seed.md'));
  }, 60_000);
});
