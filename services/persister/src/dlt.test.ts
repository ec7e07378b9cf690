import { describe, expect, it, vi } from 'vitest';
import { DLT_SEND_MAX_BYTES, dltChunks, sendToDlt } from './dlt.js';

const entry = (offset: number) => ({
  message: { offset: String(offset), key: Buffer.from(`k${offset}`), value: Buffer.alloc(200) },
  reason: 'OVER_QUANTITY' as const,
  error: 'x'.repeat(1_000), // the longest error a header carries
  couponId: 7,
  attempts: 1,
  firstFailureAt: new Date(0),
});

describe('DLT sends stay under the broker limit', () => {
  it('happy: a thousand refusals go in several sends, in order, none past DLT_SEND_MAX_BYTES', async () => {
    const sends: Array<{ messages: Array<{ key: Buffer }> }> = [];
    const producer = { send: vi.fn(async (r: (typeof sends)[number]) => void sends.push(r)) };
    const entries = Array.from({ length: 1_000 }, (_, i) => entry(i));
    await sendToDlt(producer, 'dlt', { incrby: vi.fn(async () => 1) }, { topic: 't', partition: 0 }, entries);
    expect(sends.length).toBeGreaterThan(4); // 1,000 × ~1.5 KB: past the 1 MiB a broker takes by default
    expect(sends.flatMap((s) => s.messages.map((m) => String(m.key)))).toEqual(
      entries.map((e) => `k${e.message.offset}`),
    );
    for (const s of sends) {
      const bytes = s.messages.reduce((n, m) => n + JSON.stringify(m).length, 0);
      expect(bytes).toBeLessThan(DLT_SEND_MAX_BYTES * 1.2);
    }
  });

  it('happy: a message larger than the budget goes alone; nothing is dropped', () => {
    const m = (n: number) => ({ key: null, value: Buffer.alloc(n), headers: {} });
    expect(dltChunks([m(10), m(300), m(10), m(10)], 200).map((c) => c.length)).toEqual([1, 1, 2]);
    expect(dltChunks([], 200)).toEqual([]);
  });
});
