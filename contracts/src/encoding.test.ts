import { describe, expect, it } from 'vitest';
import {
  decodeIssuedEvent,
  dltHeaders,
  EVENT_HEADERS,
  encodeIssuedEvent,
  isReplayed,
  readDltHeaders,
  readHeader,
  replayHeaders,
} from './encoding.js';
import type { CouponIssuedEvent } from './events.js';
import { DLT_HEADERS, REPLAYED_FROM_HEADER } from './topics.js';

const event: CouponIssuedEvent = {
  v: 1,
  eventId: '0b7c1a6e-2f7e-4d38-9f5e-1c1b6e1d2a3b',
  couponId: 5,
  userId: 42,
  issuedAt: 1_700_000_000_000,
  requestId: 'r',
};

/** As kafkajs hands headers to a consumer: Buffers. */
const asRead = (h: Record<string, string>) =>
  Object.fromEntries(Object.entries(h).map(([k, v]) => [k, Buffer.from(v)]));

describe('encodeIssuedEvent / decodeIssuedEvent', () => {
  it('happy: keyed by user, the value decodes back to the same event, headers under EVENT_HEADERS', () => {
    const m = encodeIssuedEvent(event);
    expect(m.key).toBe('42');
    expect(decodeIssuedEvent(Buffer.from(m.value))).toEqual({ ok: true, event });
    expect(readHeader(asRead(m.headers), EVENT_HEADERS.id)).toBe(event.eventId);
    expect(readHeader(asRead(m.headers), EVENT_HEADERS.version)).toBe('1');
  });

  it('error: not JSON, or not the schema, with the ids the JSON still has', () => {
    expect(decodeIssuedEvent(Buffer.from('not json'))).toEqual({ ok: false, error: 'value is not JSON' });
    expect(decodeIssuedEvent(null)).toMatchObject({ ok: false });
    const bad = decodeIssuedEvent(JSON.stringify({ ...event, userId: -1 }));
    expect(bad).toMatchObject({ ok: false, couponId: 5, userId: undefined });
    expect(bad.ok === false && bad.error).toContain('userId');
    expect(decodeIssuedEvent(JSON.stringify({ ...event, v: 2, couponId: '5' }))).toMatchObject({
      ok: false,
      couponId: undefined,
    });
  });
});

describe('DLT headers', () => {
  it('happy: what dltHeaders writes, readDltHeaders reads back', () => {
    const h = dltHeaders({
      reason: 'NON_RETRYABLE',
      error: 'x'.repeat(2_000),
      attempts: 3,
      origin: { topic: 'coupon.issued', partition: 4, offset: '99' },
      firstFailureAt: new Date('2026-01-01T00:00:00.000Z'),
      couponId: 5,
    });
    expect(h[DLT_HEADERS.originTopic]).toBe('coupon.issued');
    expect(h[DLT_HEADERS.originPartition]).toBe('4');
    expect(h[DLT_HEADERS.originOffset]).toBe('99');
    expect(readDltHeaders(asRead(h))).toEqual({
      reason: 'NON_RETRYABLE',
      error: 'x'.repeat(1_000),
      attempts: 3,
      firstFailureAt: '2026-01-01T00:00:00.000Z',
      couponId: 5,
    });
  });

  it('error: missing or malformed headers read as undefined; no coupon header without a coupon', () => {
    expect(readDltHeaders(undefined)).toEqual({
      reason: undefined,
      error: undefined,
      attempts: undefined,
      firstFailureAt: undefined,
      couponId: undefined,
    });
    expect(readDltHeaders({ [DLT_HEADERS.attempts]: 'many', [DLT_HEADERS.couponId]: '-1' })).toMatchObject({
      attempts: undefined,
      couponId: undefined,
    });
    const h = dltHeaders({
      reason: 'SCHEMA_INVALID',
      error: 'value is not JSON',
      attempts: 0,
      origin: { topic: 't', partition: 0, offset: '0' },
      firstFailureAt: new Date(0),
    });
    expect(h[DLT_HEADERS.couponId]).toBeUndefined();
  });

  it('happy: a replayed event says where it came from and keeps its event headers', () => {
    const h = replayHeaders({ topic: 'coupon.issued.dlt', partition: 2, offset: '7' }, event);
    expect(h).toEqual({
      [REPLAYED_FROM_HEADER]: 'coupon.issued.dlt/2/7',
      ...encodeIssuedEvent(event).headers,
    });
    expect(isReplayed(asRead(h))).toBe(true);
    expect(isReplayed(asRead(encodeIssuedEvent(event).headers))).toBe(false);
    expect(isReplayed(undefined)).toBe(false);
  });
});
