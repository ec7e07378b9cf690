import { describe, expect, it } from 'vitest';
import { buckets, diffBuckets, parseProm, quantile } from './prom.ts';

const TEXT = `# HELP x_seconds a histogram
# TYPE x_seconds histogram
x_seconds_bucket{le="0.001",route="/a"} 50
x_seconds_bucket{le="0.01",route="/a"} 90
x_seconds_bucket{le="0.1",route="/a"} 100
x_seconds_bucket{le="+Inf",route="/a"} 100
x_seconds_bucket{le="0.001",route="/b"} 0
x_seconds_bucket{le="0.01",route="/b"} 0
x_seconds_bucket{le="0.1",route="/b"} 0
x_seconds_bucket{le="+Inf",route="/b"} 10
x_seconds_count{route="/a"} 100
up 1
weird{msg="a \\"quoted\\", comma"} 2
`;

describe('parseProm', () => {
  it('reads names, labels (with escapes) and values', () => {
    const s = parseProm(TEXT);
    expect(s.find((x) => x.name === 'up')?.value).toBe(1);
    expect(s.find((x) => x.name === 'weird')?.labels.msg).toBe('a "quoted", comma');
    expect(s.filter((x) => x.name === 'x_seconds_bucket')).toHaveLength(8);
  });
});

describe('quantile', () => {
  const s = parseProm(TEXT);
  it('interpolates inside the bucket like histogram_quantile', () => {
    const b = buckets(s, 'x_seconds', { route: '/a' });
    expect(quantile(0.5, b)).toBeCloseTo(0.001);
    expect(quantile(0.7, b)).toBeCloseTo(0.001 + 0.009 * 0.5);
    expect(quantile(0.99, b)).toBeCloseTo(0.01 + 0.09 * 0.9);
  });
  it('answers the highest finite bound when the rank falls in +Inf, undefined when empty', () => {
    expect(quantile(0.99, buckets(s, 'x_seconds', { route: '/b' }))).toBe(0.1);
    expect(quantile(0.99, new Map())).toBeUndefined();
  });
  it('subtracts an earlier scrape', () => {
    const end = buckets(s, 'x_seconds', { route: '/a' });
    const start = new Map([
      [0.001, 50],
      [0.01, 50],
      [0.1, 50],
      [Number.POSITIVE_INFINITY, 50],
    ]);
    // the 50 observations in between all sit in (0.001, 0.01] or (0.01, 0.1]
    expect(quantile(0.5, diffBuckets(end, start))).toBeGreaterThan(0.001);
  });
});
