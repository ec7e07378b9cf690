import { describe, expect, it } from 'vitest';
import { parseWrk } from './wrk.ts';

const OUT = `Running 10s test @ http://127.0.0.1:3000
  1 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     5.12ms    2.01ms  45.10ms   90.00%
  Latency Distribution
     50%    4.80ms
     75%    5.50ms
     90%    6.90ms
     99%   12.34ms
  41234 requests in 10.00s, 14.50MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 17
Requests/sec:   4123.40
Transfer/sec:      1.45MB
status 202 41217
status 503 17
`;

describe('parseWrk', () => {
  it('reads throughput, latency percentiles, errors and the status lines of issue.lua', () => {
    const r = parseWrk(OUT);
    expect(r.rps).toBeCloseTo(4123.4);
    expect(r.requests).toBe(41234);
    expect(r.non2xx).toBe(17);
    expect(r.errors).toBe(3);
    expect(r.p50).toBeCloseTo(4.8);
    expect(r.p99).toBeCloseTo(12.34);
    expect(r.statuses).toEqual({ '202': 41217, '503': 17 });
  });
  it('converts microseconds and seconds', () => {
    const r = parseWrk(OUT.replace('4.80ms', '480.00us').replace('12.34ms', '1.50s'));
    expect(r.p50).toBeCloseTo(0.48);
    expect(r.p99).toBeCloseTo(1500);
  });
  it('fails loudly when wrk printed no result', () => {
    expect(() => parseWrk('unable to connect to 127.0.0.1:3000 Connection refused')).toThrow(/Requests\/sec/);
  });
});
