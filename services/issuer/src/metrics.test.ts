import { createRegistry, type Registry } from '@coupon/kit';
import { describe, expect, it } from 'vitest';
import { createIssuerMetrics } from './metrics.js';
import { DeliveryTimeoutError } from './producer.js';

/** One sample: `name` may be a histogram's name_count or name_sum. */
async function value(registry: Registry, name: string, labels: Record<string, string> = {}) {
  const metric =
    registry.getSingleMetric(name) ?? registry.getSingleMetric(name.replace(/_(count|sum)$/, ''));
  const values = (await metric?.get())?.values ?? [];
  const match = (v: (typeof values)[number]) =>
    (v.metricName ?? name) === name &&
    Object.entries(labels).every(([k, x]) => String(v.labels[k as never]) === x);
  return values.find(match)?.value;
}

describe('createIssuerMetrics', () => {
  it('happy: batch size and send latency per batch; failed events counted by definite/ambiguous', async () => {
    const m = createIssuerMetrics(createRegistry('issuer', { defaultMetrics: false }));
    m.producer.onBatch(40, 3, true);
    m.producer.onBatch(10, 5_000, false, new DeliveryTimeoutError(5_000));
    m.producer.onBatch(7, 2, false, new Error('The producer is disconnected'));
    const r = m.registry;
    expect(await value(r, 'kafka_producer_batch_size_count')).toBe(3);
    expect(await value(r, 'kafka_producer_batch_size_sum')).toBe(57);
    expect(await value(r, 'kafka_producer_send_seconds_count', { result: 'ok' })).toBe(1);
    expect(await value(r, 'kafka_producer_send_seconds_count', { result: 'failed' })).toBe(2);
    expect(await value(r, 'kafka_producer_failures_total', { definite: 'false' })).toBe(10);
    expect(await value(r, 'kafka_producer_failures_total', { definite: 'true' })).toBe(7);
  });

  it('happy: gate outcomes are counted, every outcome present from the start', async () => {
    const m = createIssuerMetrics(createRegistry('issuer', { defaultMetrics: false }));
    m.gate.onAdmit('ISSUED');
    m.gate.onAdmit('SOLD_OUT');
    m.gate.onAdmit('SOLD_OUT');
    const r = m.registry;
    expect(await value(r, 'coupon_gate_outcomes_total', { outcome: 'issued' })).toBe(1);
    expect(await value(r, 'coupon_gate_outcomes_total', { outcome: 'sold_out' })).toBe(2);
    expect(await value(r, 'coupon_gate_outcomes_total', { outcome: 'coupon_not_open' })).toBe(0);
  });

  it('happy: gate rebuilds by result and WAIT-unconfirmed admissions are counted, present from the start', async () => {
    const m = createIssuerMetrics(createRegistry('issuer', { defaultMetrics: false }));
    const r = m.registry;
    expect(await value(r, 'coupon_gate_rebuilds_total', { result: 'rebuilt' })).toBe(0);
    expect(await value(r, 'coupon_gate_replica_wait_short_total')).toBe(0);
    m.heal.onRebuild(true);
    m.heal.onRebuild(false);
    m.heal.onRebuild(true);
    m.gate.onReplicaWaitShort(12);
    expect(await value(r, 'coupon_gate_rebuilds_total', { result: 'rebuilt' })).toBe(2);
    expect(await value(r, 'coupon_gate_rebuilds_total', { result: 'failed' })).toBe(1);
    expect(await value(r, 'coupon_gate_replica_wait_short_total')).toBe(12);
  });

  it('happy: reconcile figures; the oldest ambiguous age is measured at scrape time, 0 when none', async () => {
    const m = createIssuerMetrics(createRegistry('issuer', { defaultMetrics: false }));
    const r = m.registry;
    expect(await value(r, 'coupon_reconcile_oldest_ambiguous_seconds')).toBe(0);
    expect(await value(r, 'coupon_reconcile_repaired_total', { action: 'republished' })).toBe(0);
    m.reconcile.onRound(3, Date.now() - 90_000);
    m.reconcile.onRepaired('republished', 2);
    m.reconcile.onRoundResult('skipped');
    expect(await value(r, 'coupon_reconcile_ambiguous_admissions')).toBe(3);
    expect(await value(r, 'coupon_reconcile_oldest_ambiguous_seconds')).toBeGreaterThanOrEqual(90);
    expect(await value(r, 'coupon_reconcile_repaired_total', { action: 'republished' })).toBe(2);
    expect(await value(r, 'coupon_reconcile_rounds_total', { result: 'skipped' })).toBe(1);
    m.reconcile.onRound(0, undefined);
    expect(await value(r, 'coupon_reconcile_oldest_ambiguous_seconds')).toBe(0);
  });
});
