import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { backoffMs, decode, isReplay, toRow } from './decode.js';

const msg = (value: unknown, offset = '0') => ({
  offset,
  key: Buffer.from('1'),
  value: Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)),
});
const good = {
  v: 1,
  eventId: randomUUID(),
  couponId: 7,
  userId: 42,
  issuedAt: 1_700_000_000_000,
  requestId: 'r',
};

describe('decode', () => {
  it('happy: a valid event becomes a row', () => {
    const d = decode([msg(good)]);
    expect(d.poison).toHaveLength(0);
    expect(d.events).toHaveLength(1);
    expect(toRow(d.events[0]!.event)).toEqual({
      couponId: 7,
      userId: 42,
      eventId: good.eventId,
      issuedAt: new Date(good.issuedAt),
    });
  });

  it('error: not JSON, wrong version, bad ids and missing fields are poison with a reason', () => {
    const d = decode([
      msg('not json', '1'),
      msg({ ...good, v: 2 }, '2'),
      msg({ ...good, userId: -1 }, '3'),
      msg({ ...good, couponId: 1.5 }, '4'),
      msg({ v: 1 }, '5'),
    ]);
    expect(d.events).toHaveLength(0);
    expect(d.poison.map((p) => p.reason)).toEqual(Array(5).fill('SCHEMA_INVALID'));
    expect(d.poison[0]?.error).toBe('value is not JSON');
    expect(d.poison[2]?.couponId).toBe(7); // still attributed to its coupon for the DLT counter
  });
});

describe('isReplay', () => {
  it('happy: only an event the DLT command re-published counts as a replay', () => {
    expect(isReplay({ ...msg(good), headers: { 'x-replayed-from': Buffer.from('dlt/0/7') } })).toBe(true);
    expect(isReplay({ ...msg(good), headers: { 'event-id': Buffer.from(good.eventId) } })).toBe(false);
    expect(isReplay(msg(good))).toBe(false);
  });
});

describe('backoffMs', () => {
  it('grows exponentially with jitter and stays under the cap', () => {
    for (let attempt = 1; attempt < 30; attempt++) {
      const ms = backoffMs(attempt, 5_000);
      const ceiling = Math.min(5_000, 100 * 2 ** (attempt - 1));
      expect(ms).toBeGreaterThanOrEqual(ceiling / 2);
      expect(ms).toBeLessThanOrEqual(ceiling);
    }
  });
});
