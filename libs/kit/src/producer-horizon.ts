/**
 * The issuer's producer timing, derived from its delivery timeout in this one place: the issuer
 * configures its kafkajs client and producer from it, and every wait that must outlast the issuer's
 * sends (the gate's self-heal, a forced rebuild, reconcile's grace) reads producerHorizonMs from it.
 */
export interface ProducerTiming {
  /** PRODUCER_DELIVERY_TIMEOUT_MS: callers are answered (ambiguous 503) after this long. */
  deliveryTimeoutMs: number;
  /** kafkajs requestTimeout: one produce request's wait for the broker. */
  requestTimeoutMs: number;
  /** kafkajs producer retry settings (its retrier: backoff_i = min(max, backoff_{i-1}·(1±factor)·multiplier)). */
  retry: {
    initialRetryTime: number;
    maxRetryTime: number;
    retries: number;
    multiplier: number;
    factor: number;
  };
}

/** The issuer's PRODUCER_DELIVERY_TIMEOUT_MS default (services/issuer/src/env.ts). */
export const DEFAULT_DELIVERY_TIMEOUT_MS = 5_000;

/**
 * A produce request abandoned at the delivery timeout holds the broker connection until its own
 * request timeout: half the delivery timeout, so the producer frees up soon after. Retries bounded
 * so a dead broker ends a send instead of retrying for ever.
 */
export function producerTiming(deliveryTimeoutMs: number = DEFAULT_DELIVERY_TIMEOUT_MS): ProducerTiming {
  return {
    deliveryTimeoutMs,
    requestTimeoutMs: Math.max(1_000, Math.floor(deliveryTimeoutMs / 2)),
    retry: { initialRetryTime: 100, maxRetryTime: 1_000, retries: 6, multiplier: 2, factor: 0.2 },
  };
}

/**
 * The producer's horizon: every event handed to the issuer's producer has, this long after it was
 * queued, been acknowledged, definitely failed, or had its send cut (the issuer disconnects a kafkajs
 * producer whose send reaches it, and its patched retrier writes nothing more). It is what kafkajs
 * would need at worst for the send: every attempt waiting its full request timeout, plus the longest
 * backoffs between them; never less than the delivery timeout (a message may queue that long).
 * It does not cover a request already in a frozen broker's socket: see docs/decisions (the horizon).
 */
export function producerHorizonMs(t: ProducerTiming): number {
  const { initialRetryTime, maxRetryTime, retries, multiplier, factor } = t.retry;
  let backoff = 0;
  let step = initialRetryTime * (1 + factor);
  for (let i = 0; i < retries; i++) {
    backoff += Math.min(maxRetryTime, step);
    step = Math.min(maxRetryTime, step) * (1 + factor) * multiplier;
  }
  return Math.ceil(Math.max(t.deliveryTimeoutMs, (retries + 1) * t.requestTimeoutMs + backoff));
}
