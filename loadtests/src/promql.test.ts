import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Prom, perSecond, QUERIES, record } from './promql.ts';

describe('record', () => {
  it('asks every query over the run, with its range and test id, and writes prometheus.json', async () => {
    const asked: URLSearchParams[] = [];
    const server = createServer((req, res) => {
      const q = new URL(req.url ?? '', 'http://x').searchParams;
      asked.push(q);
      res.setHeader('content-type', 'application/json');
      const result = q.get('query')?.startsWith('sum(k6_http_reqs_total')
        ? [
            {
              metric: {},
              values: [
                [100, '0'],
                [101, '42'],
              ],
            },
          ]
        : [];
      res.end(JSON.stringify({ status: 'success', data: { resultType: 'matrix', result } }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const dir = mkdtempSync(join(tmpdir(), 'coupon-promql-'));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      await record(dir, url, { start: 100, end: 112.5, testid: 'smoke-1' });
      expect(asked).toHaveLength(Object.keys(QUERIES).length);
      expect(
        asked.every((q) => q.get('start') === '100' && q.get('end') === '112.5' && q.get('step') === '1'),
      ).toBe(true);
      const exprs = asked.map((q) => q.get('query') ?? '');
      expect(exprs.filter((e) => /\$(range|testid)/.test(e))).toEqual([]);
      expect(exprs).toContain('sum(k6_http_reqs_total{testid="smoke-1", name="issue-async"})');
      expect(exprs).toContain('sum(increase(rate_limiter_rejections_total{service="gateway"}[13s]))');
      const p = new Prom(JSON.parse(readFileSync(join(dir, 'prometheus.json'), 'utf8')));
      expect(perSecond(p.points('reqs'))).toEqual([{ t: 101_000, v: 42 }]);
    } finally {
      server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('error: an expression Prometheus refuses stops the recording with its message', async () => {
    const server = createServer((_req, res) => {
      res.statusCode = 400;
      res.end(JSON.stringify({ status: 'error', error: 'parse error' }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      await expect(record(tmpdir(), url, { start: 0, end: 1, testid: 'x' })).rejects.toThrow(/parse error/);
    } finally {
      server.close();
    }
  });
});

describe('Prom', () => {
  it('reads points in ms, drops NaN (a histogram without observations), differences counters', () => {
    const p = new Prom({
      start: 0,
      end: 3,
      step: 1,
      answers: {
        q: [
          {
            metric: { le: 'x' },
            values: [
              [0, 'NaN'],
              [1, '0.5'],
            ],
          },
        ],
        c: [
          {
            metric: {},
            values: [
              [0, '10'],
              [1, '20'],
              [2, '5'],
              [4, '25'],
            ],
          },
        ],
      },
    });
    expect(p.points('q')).toEqual([{ t: 1000, v: 0.5 }]);
    expect(p.value('missing')).toBeUndefined();
    // a reset (20 → 5) is skipped; 5 → 25 over 2 s is 10/s
    expect(perSecond(p.points('c'))).toEqual([
      { t: 1000, v: 10 },
      { t: 4000, v: 10 },
    ]);
  });
});
