import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decode, toRow } from './decode.js';

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
