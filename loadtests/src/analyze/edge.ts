/** The gateway's protections: the circuit breaker around the issuer and the rate limiter. */
import { int, NOT } from '../format.ts';
import type { Scraped } from '../scraped.ts';
import type { Read } from './types.ts';

export function breaker(m: Scraped): Read {
  const name = 'circuit breaker opens';
  if (!m.has('gateway', 'circuit_breaker_state'))
    return { signals: [{ name, value: NOT, source: 'circuit_breaker_state' }], findings: [] };
  const state = m.max(m.series('gateway', 'circuit_breaker_state'))?.v ?? 0;
  const opens = m.increase('gateway', 'circuit_breaker_transitions_total', { to: 'open' });
  return {
    signals: [
      {
        name,
        value: `${int(opens ?? 0)} (worst state ${state >= 2 ? 'open' : state >= 1 ? 'half-open' : 'closed'})`,
        source: 'circuit_breaker_state, circuit_breaker_transitions_total',
      },
    ],
    findings:
      (opens ?? 0) > 0 || state >= 2
        ? [
            `**Circuit breaker opened ${int(opens ?? 0)} time(s)**: issuer calls failed or timed out; those requests got 503.`,
          ]
        : [],
  };
}

export function rateLimiter(m: Scraped): Read {
  const limited = m.increase('gateway', 'rate_limiter_rejections_total');
  return {
    signals: [
      {
        name: 'rate-limited requests (429)',
        value: limited === undefined ? NOT : int(limited),
        source: 'rate_limiter_rejections_total',
      },
    ],
    findings:
      (limited ?? 0) > 0
        ? [
            `**Rate limiter refused ${int(limited)} requests** with 429: the token bucket is smaller than the offered load.`,
          ]
        : [],
  };
}
