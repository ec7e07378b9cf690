/** Latency measured inside the services: the gateway's handler, the issuer's behind it, its Kafka sends. */
import { NOT, secs } from '../format.ts';
import type { Scraped } from '../scraped.ts';
import { LIMITS } from '../targets.ts';
import type { Signal, Window } from './types.ts';

const HISTOGRAM = 'http_server_request_duration_seconds';

export interface ServerLatency {
  signals: Signal[];
  gatewayP99?: number;
  issuerP99?: number;
  /** The issuer's Kafka send p99 (acks=all). */
  producerP99?: number;
}

export function serverLatency(m: Scraped, window: Window | undefined): ServerLatency {
  const gateway = ownLatency(m, 'gateway', window);
  const issuer = ownLatency(m, 'issuer', window);
  const producerP99 = m.histQuantile('issuer', 'kafka_producer_send_seconds', 0.99, { result: 'ok' });
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

/** p50 / p99 of the service's issue route during the load. */
function ownLatency(
  m: Scraped,
  svc: string,
  window: Window | undefined,
): { signal: Signal; p50?: number; p99?: number } {
  if (!m.has(svc, HISTOGRAM))
    return {
      signal: { name: `${svc}: own latency of the issue route (p50 / p99)`, value: NOT, source: HISTOGRAM },
    };
  let route: string | undefined;
  for (const s of m.scrapes(svc).at(-1)?.samples ?? [])
    if (s.name === `${HISTOGRAM}_bucket` && s.labels.method === 'POST' && s.labels.route?.includes('issue'))
      route = s.labels.route;
  const filter: Record<string, string> = route ? { route } : {};
  const w: Window | undefined = window && [window[0] - 1500, window[1] + 1500];
  const p50 = m.histQuantile(svc, HISTOGRAM, 0.5, filter, w);
  const p99 = m.histQuantile(svc, HISTOGRAM, 0.99, filter, w);
  return {
    signal: {
      name: `${svc}: own latency of ${route ?? 'all routes'} (p50 / p99)`,
      value: `${capped(p50)} / ${capped(p99)}`,
      source: HISTOGRAM,
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
