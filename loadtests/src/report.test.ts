import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Analysis } from './analyze.ts';
import { versus } from './format.ts';
import { writeReport } from './report.ts';

// A real smoke run: k6's summary, the rows, and Prometheus's answers to the report's PromQL as recorded.
const FIXTURE = join(import.meta.dirname, '../fixtures/smoke');

describe('report from a smoke run', () => {
  let dir: string;
  let a: Analysis;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'coupon-report-'));
    cpSync(FIXTURE, dir, { recursive: true });
    a = await writeReport(dir);
  }, 60_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('fills the latency table with k6 trend stats beside the seed figures', () => {
    const md = readFileSync(join(dir, 'report.md'), 'utf8');
    expect(md).toContain('### 2.1 Response latency (http_req_duration)');
    expect(md).toMatch(/\| p99 \| [\d.]+ ms \| 57\.5 ms \|/);
    expect(md).toMatch(/\| p80 \| [\d.]+ ms \| 0\.53 ms \|/);
    expect(a.latency.every((r) => r.value !== undefined)).toBe(true);
  });

  it('counts answers and finds the per-second peak', () => {
    expect(a.requests).toBe(838);
    expect(a.outcomes.find((o) => o.label.startsWith('202'))?.count).toBe(200);
    expect(a.throughput.peak).toBeGreaterThan(a.throughput.mean ?? 0);
  });

  it('reads the bottleneck signals from the recorded PromQL answers', () => {
    const value = (name: string) => a.signals.find((s) => s.name.startsWith(name))?.value;
    expect(value('persister: DB pool active / max')).toMatch(/\/ 30/);
    expect(value('consumer lag')).toMatch(/messages/);
    expect(value('event-to-row p99 (metric)')).not.toBe('not exported');
    expect(value('rate-limited requests')).toBe('0');
    expect(a.findings.length).toBeGreaterThan(2);
  });

  it('checks the invariants: 200 rows for quantity 200, as many as the 202s', () => {
    expect(a.invariants).toMatchObject({
      quantity: 200,
      admitted: 200,
      persisted: 200,
      accepted: 200,
      broken: [],
    });
  });

  it('embeds the charts as SVG in the HTML', () => {
    const html = readFileSync(join(dir, 'report.html'), 'utf8');
    expect(html.match(/<svg/g)?.length ?? 0).toBeGreaterThanOrEqual(4);
    expect(html).toContain('<h2>3. Bottleneck analysis</h2>');
  });

  it('says "not exported" for signals the services do not export', async () => {
    const bare = mkdtempSync(join(tmpdir(), 'coupon-report-'));
    try {
      for (const f of ['summary.json', 'meta.json']) cpSync(join(FIXTURE, f), join(bare, f));
      const b = await writeReport(bare);
      expect(b.signals.find((s) => s.name.startsWith('consumer lag'))?.value).toBe('not exported');
      expect(readFileSync(join(bare, 'report.md'), 'utf8')).toContain('not exported');
    } finally {
      rmSync(bare, { recursive: true, force: true });
    }
  });
});

describe('versus', () => {
  it('compares with the seed, lower latency being better', () => {
    expect(versus(1, 2)).toBe('−50 % (better)');
    expect(versus(6, 2)).toBe('×3.0 (worse)');
    expect(versus(3000, 2000, true)).toBe('+50 % (better)');
    expect(versus(undefined, 2)).toBe('–');
  });
});
