/** Kafka between the gate and the table: the persister's consumer lag and event-to-row latency. */
import { int, ms, NOT, secs } from '../format.ts';
import { peak as highest, type Prom } from '../promql.ts';
import type { RowStats } from '../rows.ts';
import { LIMITS, TARGETS } from '../targets.ts';
import type { Read, Window } from './types.ts';

export function consumerLag(m: Prom, window: Window | undefined): Read {
  const lag = m.points('lag');
  const name = 'consumer lag (peak, all partitions)';
  if (lag.length === 0)
    return { signals: [{ name, value: NOT, source: 'kafka_consumer_lag' }], findings: [] };
  const peak = highest(lag);
  const end = window?.[1];
  const drained = end !== undefined ? lag.find((p) => p.t > end && p.v === 0) : undefined;
  const atEnd = end !== undefined ? lag.filter((p) => p.t <= end).at(-1) : undefined;
  const out: Read = {
    signals: [
      {
        name,
        value: `${int(peak?.v)} messages${peak && window ? ` at +${((peak.t - window[0]) / 1000).toFixed(0)} s` : ''}`,
        source: 'kafka_consumer_lag',
      },
    ],
    findings: [],
  };
  if (drained && end !== undefined)
    out.signals.push({
      name: 'lag back to 0 after the load',
      value: secs((drained.t - end) / 1000),
      source: 'kafka_consumer_lag',
    });
  if ((peak?.v ?? 0) > LIMITS.lagAlert)
    out.findings.push(
      `**Kafka consumer lag.** Lag peaked at ${int(peak?.v)} messages (the seed's alert fires above ${LIMITS.lagAlert})` +
        `${atEnd ? `, ${int(atEnd.v)} still unread when the load stopped` : ''}. The persister's batches ` +
        'did not keep up with admissions at the peak; see its CPU below and the batch duration before adding partitions or consumers.',
    );
  else if (peak)
    out.findings.push(
      `**Kafka consumer kept up.** Lag peaked at ${int(peak.v)} messages (alert threshold ${LIMITS.lagAlert}).`,
    );
  return out;
}

/** From the persister's histogram, and exactly from the table (created_at − issued_at). */
export function eventToRow(m: Prom, rows: RowStats | undefined): Read {
  const e2r = m.value('eventToRowP99');
  const out: Read = {
    signals: [
      {
        name: 'event-to-row p99 (metric)',
        value: e2r === undefined ? NOT : secs(e2r),
        source: 'coupon_event_to_row_seconds',
      },
    ],
    findings: [],
  };
  const r = rows?.eventToRow;
  if (!r) return out;
  out.signals.push({
    name: 'event-to-row from the table (created_at − issued_at)',
    value: `p50 ${ms(r.p50, 0)}, p99 ${ms(r.p99, 0)}, max ${ms(r.max, 0)}`,
    source: 'coupon_issue',
  });
  if (r.p99 > TARGETS.eventToRowP99Ms)
    out.findings.push(
      `**Rows arrive late.** Event-to-row p99 is ${ms(r.p99, 0)} (target ≤ ${TARGETS.eventToRowP99Ms / 1000} s): admitted users wait in Kafka for the persister; this is the consumer lag above.`,
    );
  return out;
}
