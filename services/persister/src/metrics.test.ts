import { createRegistry, type Registry } from '@coupon/kit';
import { describe, expect, it } from 'vitest';
import { createPersisterMetrics } from './metrics.js';

async function values(registry: Registry, name: string) {
  return ((await registry.getSingleMetric(name)?.get())?.values ?? []) as Array<{
    labels: Record<string, string>;
    value: number;
  }>;
}

describe('createPersisterMetrics', () => {
  it('happy: writer hooks feed batch, retry, DLT and event-to-row series', async () => {
    const m = createPersisterMetrics(createRegistry('persister', { defaultMetrics: false }));
    m.writer.onBatch(100, 98, 12);
    m.writer.onRetry(new Error('pool timeout'));
    m.writer.onDlt(2);
    m.writer.onEventLatency(40);
    m.writer.onEventLatency(-3); // issuer clock slightly ahead
    const one = async (name: string, metricName = name) =>
      ((await values(m.registry, name)) as Array<{ metricName?: string; value: number }>).find(
        (v) => (v.metricName ?? name) === metricName,
      )?.value;
    expect(await one('persister_batch_size', 'persister_batch_size_sum')).toBe(100);
    expect(await one('persister_rows_inserted_total')).toBe(98);
    expect(await one('persister_retries_total')).toBe(1);
    expect(await one('persister_dlt_events_total')).toBe(2);
    expect(await one('coupon_event_to_row_seconds', 'coupon_event_to_row_seconds_count')).toBe(2);
    expect(await one('coupon_event_to_row_seconds', 'coupon_event_to_row_seconds_sum')).toBeCloseTo(0.04);
  });
});
