import {
  boolish,
  commonEnv,
  DEV_TOKENS,
  devTokensOnlyOnLoopback,
  drainEnv,
  parseEnv,
  redisEnv,
  secret,
  tokenEnv,
} from '@coupon/kit';
import { z } from 'zod';
import { authEnv, checkAuth } from './auth/env.js';
import { fairnessEnv } from './fairness/env.js';

const variables = z.object({
  ...commonEnv,
  ...drainEnv,
  ...redisEnv,
  ...tokenEnv,
  ...authEnv,
  ...fairnessEnv,
  /** Public HTTP port. */
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  /**
   * Interface to listen on. Loopback by default; HOST=0.0.0.0 exposes the gateway (the Dockerfile sets
   * it), and then ADMIN_TOKEN and INTERNAL_TOKEN must be secrets of your own: the gateway refuses to
   * start with the development tokens on any interface beyond loopback.
   */
  HOST: z.string().default('127.0.0.1'),
  /**
   * /metrics has a listener of its own on this port (on METRICS_HOST), never the public PORT, like
   * Spring's management port; Prometheus scrapes it. 0: a free port (tests).
   */
  METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(9464),
  /** Interface of the metrics listener: loopback unless a scraper elsewhere needs it. */
  METRICS_HOST: z.string().default('127.0.0.1'),
  /** Base URL of the issuer's internal API. */
  ISSUER_URL: z.url().default('http://127.0.0.1:3001'),
  /** Keep-alive connections to the issuer. */
  ISSUER_CONNECTIONS: z.coerce.number().int().min(1).max(1_024).default(64),
  /** Budget for one issuer call; past it the breaker counts a failure and the client gets 503. */
  ISSUER_TIMEOUT_MS: z.coerce.number().int().min(10).default(3_000),
  /** Issue calls in flight at most; past it the gateway answers 503 at once rather than queue (fail fast). */
  ISSUER_MAX_IN_FLIGHT: z.coerce.number().int().min(1).default(1_024),
  /** Issue requests sent to the issuer in one call at most; those gathered in ISSUER_LINGER_MS go together. */
  ISSUER_MAX_BATCH: z.coerce.number().int().min(1).max(1_000).default(256),
  /**
   * Gather issue requests this long into one issuer call (0: only those of one event-loop turn).
   * Requests that arrive one by one then share calls: up to this much latency for less CPU per request
   * in the gateway, the issuer and Redis. Why this default, with the figures:
   * docs/decisions/0014-issuer-linger.md.
   */
  ISSUER_LINGER_MS: z.coerce.number().int().min(0).max(20).default(1),
  /**
   * Bearer token for /admin. The default is a development token, refused beyond loopback (HOST);
   * scripts/start generates one per installation into .local/secrets.env.
   */
  ADMIN_TOKEN: secret().default(DEV_TOKENS.ADMIN_TOKEN),
  /** Token bucket: sustained requests per second admitted to the issue endpoint (per instance unless shared). */
  RATE_LIMIT_PER_SEC: z.coerce.number().int().min(1).default(20_000),
  /** Token bucket size: how large a burst passes at once. */
  RATE_LIMIT_BURST: z.coerce.number().int().min(1).default(20_000),
  /** Share the bucket between gateways through Redis (bottleneck's Redis datastore). */
  RATE_LIMIT_SHARED: boolish.default(false),
  /**
   * After the issuer answered SOLD_OUT for a coupon, the gateway answers it itself this long (or until
   * a release is announced over Redis pub/sub), so those requests never cross to the issuer. 0: off.
   * The run-time setting `edgeSoldOutTtlMs` (PATCH /admin/settings) overrides it.
   */
  EDGE_SOLD_OUT_TTL_MS: z.coerce.number().int().min(0).max(60_000).default(1_000),
  /**
   * Re-read the run-time settings record in Redis this often, besides on its pub/sub message (which
   * is at once): the bound on how late a gateway follows a change whose message it missed.
   */
  SETTINGS_POLL_MS: z.coerce.number().int().min(50).max(1_000).default(500),
  /** Breaker opens when this percentage of calls fail within the rolling window... */
  BREAKER_ERROR_PERCENT: z.coerce.number().min(1).max(100).default(50),
  /** ...and at least this many issuer calls (one call carries the issue requests of one ISSUER_LINGER_MS window) were made in it. */
  BREAKER_VOLUME_THRESHOLD: z.coerce.number().int().min(1).default(20),
  /** Open breaker tries one call again (half-open) after this long. */
  BREAKER_RESET_MS: z.coerce.number().int().min(100).default(2_000),
});

const devTokens = devTokensOnlyOnLoopback(['ADMIN_TOKEN', 'INTERNAL_TOKEN']);

/**
 * Parsed once at start-up: beyond loopback (HOST) the development tokens and AUTH_MODE=none are
 * refused, naming the variable.
 */
export const gatewayEnv = variables.superRefine((env, ctx) => {
  devTokens(env, ctx);
  checkAuth(env, ctx);
});

export type GatewayEnv = z.infer<typeof gatewayEnv>;

export function loadEnv(source: NodeJS.ProcessEnv = process.env): GatewayEnv {
  return parseEnv(gatewayEnv, source);
}
