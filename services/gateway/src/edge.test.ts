import { describe, expect, it, vi } from 'vitest';
import { EdgeSoldOut } from './edge.js';

describe('EdgeSoldOut', () => {
  it('happy: keeps a SOLD_OUT for its TTL, then asks the issuer again', () => {
    vi.useFakeTimers({ now: 1_000_000 });
    try {
      const edge = new EdgeSoldOut(1_000);
      edge.setLive(true);
      edge.heard(7, edge.mark);
      expect([edge.soldOut(7), edge.soldOut(8)]).toEqual([true, false]);
      vi.advanceTimersByTime(1_001);
      expect(edge.soldOut(7)).toBe(false);
      expect(edge.answered).toBe(1);
    } finally {
      vi.useRealTimers();
    }
  });

  it('happy: an announcement drops the coupon at once', () => {
    const edge = new EdgeSoldOut(60_000);
    edge.setLive(true);
    edge.heard(7, edge.mark);
    edge.changed(7);
    expect(edge.soldOut(7)).toBe(false);
  });

  it('error: keeps nothing while announcements cannot be heard, nor an answer older than one', () => {
    const edge = new EdgeSoldOut(60_000);
    edge.heard(7, edge.mark); // not live yet
    expect(edge.soldOut(7)).toBe(false);
    edge.setLive(true);
    const mark = edge.mark; // a request leaves for the issuer...
    edge.changed(9); // ...an announcement arrives meanwhile...
    edge.heard(7, mark); // ...its SOLD_OUT may predate the release: not kept
    expect(edge.soldOut(7)).toBe(false);
    edge.heard(7, edge.mark);
    edge.setLive(false); // the subscription dropped: forget everything
    expect(edge.soldOut(7)).toBe(false);
  });

  it('happy: TTL 0 turns it off', () => {
    const edge = new EdgeSoldOut(60_000);
    edge.setLive(true);
    edge.heard(7, edge.mark);
    edge.setTtl(0);
    edge.heard(7, edge.mark);
    expect(edge.soldOut(7)).toBe(false);
  });
});
