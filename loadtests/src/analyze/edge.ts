/** The gateway's protections: the circuit breaker around the issuer and the rate limiter. */
import { int, NOT } from '../format.ts';
import { type Prom, peak } from '../promql.ts';
import type { Read } from './types.ts';

export function breaker(m: Prom): Read {
  const name = 'circuit breaker opens';
  if (!m.has('breakerState'))
    return { signals: [{ name, value: NOT, source: 'circuit_breaker_state' }], findings: [] };
  const state = peak(m.points('breakerState'))?.v ?? 0;
  const opens = m.value('breakerOpens');
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

export function rateLimiter(m: Prom): Read {
  const limited = m.value('rateLimited');
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
