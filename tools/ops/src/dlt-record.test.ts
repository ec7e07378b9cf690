import { DLT_HEADERS } from '@coupon/contracts';
import type { KafkaMessage } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { matches, toDltRecord } from './dlt-record.js';

function message(value: string, headers: Record<string, string>): KafkaMessage {
  return {
    key: Buffer.from('42'),
    value: Buffer.from(value),
    headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, Buffer.from(v)])),
    offset: '7',
    timestamp: '0',
    attributes: 0,
    size: 0,
  } as KafkaMessage;
}

const event = {
  v: 1,
  eventId: '0b7c1a6e-2f7e-4d38-9f5e-1c1b6e1d2a3b',
  couponId: 5,
  userId: 42,
  issuedAt: 1,
  requestId: 'r',
};

describe('toDltRecord', () => {
  it('happy: reads the headers and the event', () => {
    const r = toDltRecord(
      3,
      message(JSON.stringify(event), {
        [DLT_HEADERS.reason]: 'NON_RETRYABLE',
        [DLT_HEADERS.attempts]: '2',
        [DLT_HEADERS.couponId]: '5',
        [DLT_HEADERS.firstFailureAt]: '2026-01-01T00:00:00.000Z',
      }),
    );
    expect(r).toMatchObject({
      partition: 3,
      offset: '7',
      key: '42',
      reason: 'NON_RETRYABLE',
      attempts: 2,
      couponId: 5,
      userId: 42,
    });
    expect(r.event).toEqual(event);
    expect(matches(r, { couponId: 5, reason: 'NON_RETRYABLE' })).toBe(true);
    expect(matches(r, { couponId: 6 })).toBe(false);
    expect(matches(r, { reason: 'SCHEMA_INVALID' })).toBe(false);
  });

  it('error: a value that is not an event has no event, and ids only where the JSON has them', () => {
    const garbage = toDltRecord(0, message('not json', { [DLT_HEADERS.reason]: 'SCHEMA_INVALID' }));
    expect(garbage).toMatchObject({
      event: undefined,
      couponId: undefined,
      userId: undefined,
      attempts: undefined,
    });
    const partial = toDltRecord(0, message(JSON.stringify({ couponId: 9, userId: -1 }), {}));
    expect(partial).toMatchObject({ event: undefined, couponId: 9, userId: undefined });
  });
});
