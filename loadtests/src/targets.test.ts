import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { TARGETS } from './targets.ts';

// k6 runs plain JS and cannot import targets.ts: the seed suite spells the thresholds again, and this
// test keeps them equal to their one home.
describe('the seed suite thresholds', () => {
  const seed = readFileSync(new URL('../k6/seed.js', import.meta.url), 'utf8');

  it('happy: the k6 latency thresholds are TARGETS', () => {
    const line = seed.match(/\[`http_req_duration\{name:\$\{ISSUE\}\}`\]: \[(.*)\]/)?.[1];
    expect(line).toBe(`'p(95)<=${TARGETS.p95}', 'p(99)<=${TARGETS.p99}', 'max<=${TARGETS.max}'`);
  });

  it('happy: dropped iterations and the quantity are TARGETS', () => {
    expect(seed).toContain(`dropped_iterations: ['count==${TARGETS.dropped}']`);
    expect(seed).toContain(`Number(__ENV.QUANTITY || ${TARGETS.rows})`);
  });
});
