import { describe, expect, it } from 'vitest';
import { ProduceGuard } from './produce-guard.js';

describe('ProduceGuard', () => {
  it('happy: goes ahead while produces succeed', () => {
    const g = new ProduceGuard(1_000, () => 0);
    expect(g.enter()).toBe('go');
    g.succeeded();
    expect(g.enter()).toBe('go');
  });

  it('error: after a failure refuses for the cooldown, then lets one probe through until it settles', () => {
    let t = 0;
    const g = new ProduceGuard(1_000, () => t);
    g.failed();
    expect(g.enter()).toBe('refuse');
    t = 999;
    expect(g.enter()).toBe('refuse');
    t = 1_000;
    expect(g.enter()).toBe('probe');
    expect(g.enter()).toBe('refuse'); // one probe at a time
    g.failed(); // the probe failed: another cooldown
    t = 1_500;
    expect(g.enter()).toBe('refuse');
    t = 2_000;
    expect(g.enter()).toBe('probe');
    g.succeeded();
    expect(g.enter()).toBe('go');
  });

  it('edge: a probe batch without admissions hands the probe to the next batch', () => {
    let t = 0;
    const g = new ProduceGuard(100, () => t);
    g.failed();
    t = 100;
    expect(g.enter()).toBe('probe');
    g.probeUnused();
    expect(g.enter()).toBe('probe');
    expect(g.enter()).toBe('refuse'); // still down: one probe at a time
  });
});
