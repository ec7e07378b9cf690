/** Latency measured inside the services: the gateway's handler, the issuer's behind it, its Kafka sends. */
import { NOT, secs } from '../format.ts';
import type { Prom } from '../promql.ts';
import { LIMITS } from '../targets.ts';
import type { Signal } from './types.ts';

export interface ServerLatency {
  signals: Signal[];
  gatewayP99?: number;
  issuerP99?: number;
  /** The issuer's Kafka send p99 (acks=all). */
  producerP99?: number;
}

export function serverLatency(m: Prom): ServerLatency {
  const gateway = ownLatency(m, 'gateway');
  const issuer = ownLatency(m, 'issuer');
  const producerP99 = m.value('producerP99');
  return {
    signals: [
      gateway.signal,
      issuer.signal,
      {
        name: 'issuer: Kafka send p99 (acks=all)',
        value: producerP99 === undefined ? NOT : secs(producerP99),
        source: 'kafka_producer_send_seconds',
      },
    ],
    gatewayP99: gateway.p99,
    issuerP99: issuer.p99,
    producerP99,
  };
}

/** p50 / p99 of the service's issue route over the run. */
function ownLatency(m: Prom, svc: string): { signal: Signal; p50?: number; p99?: number } {
  const source = 'http_server_request_duration_seconds';
  const route = m.r.answers[`${svc}P99`]?.[0]?.metric.route;
  if (route === undefined)
    return { signal: { name: `${svc}: own latency of the issue route (p50 / p99)`, value: NOT, source } };
  const p50 = m.value(`${svc}P50`, { route });
  const p99 = m.value(`${svc}P99`, { route });
  return {
    signal: {
      name: `${svc}: own latency of ${route} (p50 / p99)`,
      value: `${capped(p50)} / ${capped(p99)}`,
      source,
    },
    p50,
    p99,
  };
}

// Past 2.5 s only the 5 s bucket is left: the interpolated quantile is a floor, not a measure.
const capped = (v: number | undefined) =>
  v !== undefined && v > LIMITS.histogramTopS
    ? `≥ ${LIMITS.histogramTopS} s (top bucket, ${secs(v)} interpolated)`
    : secs(v);
