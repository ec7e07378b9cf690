import { describe, expect, it } from 'vitest';
import { benchMarkdown, haMarkdown, type Results } from './output.ts';

const step = (rps: number, statuses: Record<string, number>, cpuMs: Record<string, number>) => ({
  rps,
  requests: 100_000,
  non2xx: 0,
  errors: 0,
  statuses,
  p50: 1.234,
  p99: 12.345,
  cpuMs,
});

const results: Results = {
  hello: step(64_345.2, { '202': 100_000 }, { hello: 0.0142 }),
  accepted: {
    ...step(5193, { '202': 100_000 }, { issuer: 0.084, gateway: 0.065, persister: 0.044 }),
    couponId: 1,
    stats: { quantity: 10_000_000, admitted: 100_000, persisted: 100_000, dlt: 0 },
  },
  soldOut: {
    edgeOn: { ...step(30_100, { '409': 100_000 }, { gateway: 0.03 }), couponId: 2 },
    edgeOff: { ...step(13_130, { '409': 100_000 }, { gateway: 0.05, issuer: 0.031 }), couponId: 2 },
  },
  auth: {
    accepted: {
      ...step(4_800, { '202': 100_000 }, { issuer: 0.084, gateway: 0.08, persister: 0.044 }),
      couponId: 3,
      stats: { quantity: 10_000_000, admitted: 100_000, persisted: 100_000, dlt: 0 },
    },
    soldOut: { ...step(11_000, { '409': 100_000 }, { gateway: 0.065, issuer: 0.031 }), couponId: 4 },
  },
  drain: { events: 200_000, produceSeconds: 3.2, wallSeconds: 5.33, rowsPerSecond: 50_594.4, rows: 200_000 },
  seed: {
    latency: [
      { key: 'p95', value: 18.7 },
      { key: 'p99', value: 35 },
      { key: 'max', value: 94.5 },
    ],
    rows: { rows: 25_000, eventToRow: { p99: 70.2, p50: 30.1, max: 154 } },
    procs: [{ name: 'gateway', rssPeakMb: 250 }],
    ok: false,
    dropped: 224,
    throughput: {},
  },
  rss: new Map([
    ['gateway', 142.3],
    ['issuer', 125.6],
  ]),
  seconds: 176.4,
};

describe('the bench output', () => {
  it('sets every figure against its target and prints the CPU per request of each wrk step', () => {
    expect(benchMarkdown(results, new Date('2026-11-25T01:02:03Z'))).toMatchInlineSnapshot(`
      "Benchmarks, 2026-11-25T01:02:03.000Z, 10 s per wrk step, 64 connections, total 176 s

      | figure | measured | target | met |
      |---|---:|---|---|
      | bare node:http (wrk, 202 + JSON) | 64,345 req/s |  |  |
      | accepted path end to end | 5,193 req/s (p50 1.23 ms, p99 12.3 ms; 100,000 × 202) |  |  |
      | accepted / bare node:http | 8.1 % | ≥ 25 % | ✗ |
      | sold-out path, edge answer on | 30,100 req/s (p50 1.23 ms, p99 12.3 ms; 100,000 × 409) |  |  |
      | sold-out path, edge answer off | 13,130 req/s (p50 1.23 ms, p99 12.3 ms; 100,000 × 409) |  |  |
      | sold-out CPU per request / bare node:http, edge on (off) | 2.11× (5.70×) | ≤ 2.5× | ✓ |
      | accepted path, auth on (HS256, new token each) | 4,800 req/s (p50 1.23 ms, p99 12.3 ms; 100,000 × 202) |  |  |
      | sold-out path, auth on (edge before the token) | 11,000 req/s (p50 1.23 ms, p99 12.3 ms; 100,000 × 409) |  |  |
      | accepted CPU / bare node:http, auth off / on | 13.6× off, 14.6× on |  |  |
      | sold-out CPU / bare node:http (edge on), auth off / on | 2.1× off, 6.8× on | on ≤ 2.5× | ✗ |
      | persister drain | 50,594 rows/s (200,000 rows; 5.3 s from start incl. group join) | ≥ 20,000 rows/s | ✓ |
      | event-to-row p99 (seed scenario, table) | 70 ms (p50 30, max 154) | ≤ 1,000 ms | ✓ |
      | seed scenario p95 / p99 / max | 18.7 / 35 / 94.5 ms | ≤ 2.64 / 10 / 100 ms | ✗ |
      | seed scenario rows / dropped | 25,000 / 224 | 25,000 / 0 | ✗ |
      | RSS gateway (peak under load) | 250 MB | ≤ 200 MB | ✗ |
      | RSS issuer (peak under load) | 126 MB | ≤ 200 MB | ✓ |
      | RSS persister (peak under load) | n/a | ≤ 200 MB | n/a |

      CPU per request (ms of CPU time, from /proc, during the step; wrk itself not counted)

      | step | per process | total | ceiling on 2 cores |
      |---|---|---:|---:|
      | bare node:http | hello 0.014 | 0.014 | 140,845 req/s |
      | accepted path (incl. persisting) | issuer 0.084, gateway 0.065, persister 0.044 | 0.193 | 10,363 req/s |
      | sold-out path, edge answer on | gateway 0.030 | 0.030 | 66,667 req/s |
      | sold-out path, edge answer off | gateway 0.050, issuer 0.031 | 0.081 | 24,691 req/s |
      | accepted path, auth on (incl. persisting) | issuer 0.084, gateway 0.080, persister 0.044 | 0.208 | 9,615 req/s |
      | sold-out path, auth on | gateway 0.065, issuer 0.031 | 0.096 | 20,833 req/s |
      "
    `);
  });
});

describe('the --ha output', () => {
  const soldOut = (rps: number, gw: Record<string, number>, rest: Record<string, number>) => ({
    edgeOn: { ...step(2 * rps, { '409': 100_000 }, gw), couponId: 1 },
    edgeOff: { ...step(rps, { '409': 100_000 }, { ...gw, ...rest }), couponId: 1 },
  });
  const accepted = (cpuMs: Record<string, number>) => ({
    ...step(4_000, { '202': 100_000 }, cpuMs),
    couponId: 2,
    stats: { quantity: 10_000_000, admitted: 100_000, persisted: 100_000, dlt: 0 },
  });
  const ha = {
    soldOut: {
      oneNode: soldOut(12_000, { gateway: 0.03 }, { issuer: 0.02, redis: 0.004 }),
      replicated: soldOut(
        9_000,
        { 'gateway-1': 0.02, 'gateway-2': 0.021, haproxy: 0.03 },
        { issuer: 0.028, redis1: 0.004, sentinel1: 0.001, kafka1: 0.01, kafka2: 0.01 },
      ),
    },
    accepted: {
      oneNode: accepted({ gateway: 0.05, issuer: 0.05, kafka: 0.02, mariadb: 0.02, persister: 0.03 }),
      replicated: accepted({
        'gateway-1': 0.04,
        'gateway-2': 0.04,
        issuer: 0.08,
        kafka1: 0.03,
        galera1: 0.03,
        dbproxy: 0.01,
        persister: 0.03,
      }),
    },
  };

  it('sums each topology by process group and sets --ha beside one node, the app tier judged', () => {
    expect(haMarkdown(ha, 95, new Date('2026-12-06T21:00:00Z'))).toMatchInlineSnapshot(`
      "Replicated topology (scripts/start --ha, through HAProxy) beside one node, 2026-12-06T21:00:00.000Z, 10 s per wrk step, 64 connections, total 95 s

      CPU per request (ms of CPU time, from /proc, during the step), one node → --ha (× one node)

      | process group | sold-out, edge answer on | sold-out, edge answer off | accepted (incl. persisting) |
      |---|---:|---:|---:|
      | throughput (req/s) | 24,000 → 18,000 (0.8×) | 12,000 → 9,000 (0.8×) | 4,000 → 4,000 (1.0×) |
      | gateways | 0.030 → 0.041 (1.4×) | 0.030 → 0.041 (1.4×) | 0.050 → 0.080 (1.6×) |
      | issuer | – → – | 0.020 → 0.028 (1.4×) | 0.050 → 0.080 (1.6×) |
      | HAProxy | – → 0.030 | – → 0.030 | – → – |
      | Redis (+ Sentinels) | – → – | 0.004 → 0.005 (1.3×) | – → – |
      | Kafka brokers | – → – | – → 0.020 | 0.020 → 0.030 (1.5×) |
      | persister | – → – | – → – | 0.030 → 0.030 (1.0×) |
      | MariaDB (+ Galera, its proxy) | – → – | – → – | 0.020 → 0.040 (2.0×) |
      | app tier (gateways + issuer), sold-out target ≤ 1.5× | **0.030 → 0.041 (1.4×)** ✓ | **0.050 → 0.069 (1.4×)** ✓ | **0.100 → 0.160 (1.6×)** |
      | total | 0.030 → 0.071 (2.4×) | 0.054 → 0.124 (2.3×) | 0.170 → 0.260 (1.5×) |

      - sold-out, edge answer on, one node: 24,000 req/s (p50 1.23 ms, p99 12.3 ms; 100,000 × 409)
      - sold-out, edge answer on, --ha: 18,000 req/s (p50 1.23 ms, p99 12.3 ms; 100,000 × 409)
      - sold-out, edge answer off, one node: 12,000 req/s (p50 1.23 ms, p99 12.3 ms; 100,000 × 409)
      - sold-out, edge answer off, --ha: 9,000 req/s (p50 1.23 ms, p99 12.3 ms; 100,000 × 409)
      - accepted (incl. persisting), one node: 4,000 req/s (p50 1.23 ms, p99 12.3 ms; 100,000 × 202)
      - accepted (incl. persisting), --ha: 4,000 req/s (p50 1.23 ms, p99 12.3 ms; 100,000 × 202)
      "
    `);
  });
});
