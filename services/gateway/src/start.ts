import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  closeServer,
  createLogger,
  createRedis,
  type Env,
  type Logger,
  listen,
  metricsRoute,
  redisTarget,
  Shutdown,
} from '@coupon/kit';
import { Hono } from 'hono';
import { createApp } from './app.js';
import { Authenticator } from './auth/authenticator.js';
import { loadVerificationKey } from './auth/keys.js';
import type { GatewayEnv } from './env.js';
import { ClientLimiter } from './fairness/client-limiter.js';
import { IssuerClient } from './issuer-client.js';
import { createGatewayMetrics } from './metrics.js';
import { RateLimiter } from './rate-limit.js';

export interface RunningGateway {
  port: number;
  url: string;
  /** The metrics listener's port (METRICS_PORT, on METRICS_HOST): /metrics is never on the public port. */
  metricsPort: number;
  /** Base URL of the metrics listener (`${metricsUrl}/metrics`). */
  metricsUrl: string;
  issuer: IssuerClient;
  /** The per-user and per-address limits: setLimits() changes them at run time. */
  clients: ClientLimiter;
  shutdown: Shutdown;
  stop(): Promise<void>;
}

export async function startGateway(
  env: GatewayEnv,
  log: Logger = createLogger('gateway', env.LOG_LEVEL),
): Promise<RunningGateway> {
  const redis = env.RATE_LIMIT_SHARED
    ? createRedis({ ...redisTarget(env), failFast: false }, log)
    : undefined;
  const limiter = new RateLimiter({
    perSecond: env.RATE_LIMIT_PER_SEC,
    burst: env.RATE_LIMIT_BURST,
    redis,
    log,
  });
  const clients = new ClientLimiter({
    limits: { userPerSec: env.RATE_LIMIT_USER_PER_SEC, addressPerSec: env.RATE_LIMIT_ADDRESS_PER_SEC },
    redis,
  });
  const auth = env.AUTH_MODE === 'jwt' ? await authenticator(env, log) : undefined;
  if (env.AUTH_MODE !== 'jwt')
    log.info(
      { auth: env.AUTH_MODE },
      env.AUTH_MODE === 'none'
        ? 'no identity check: any caller may act for any userId (loopback only)'
        : "identity checked upstream: the path's userId is believed (AUTH_MODE=trusted-upstream)",
    );
  const issuer = new IssuerClient({
    url: env.ISSUER_URL,
    token: env.INTERNAL_TOKEN,
    connections: env.ISSUER_CONNECTIONS,
    timeoutMs: env.ISSUER_TIMEOUT_MS,
    maxInFlight: env.ISSUER_MAX_IN_FLIGHT,
    maxBatch: env.ISSUER_MAX_BATCH,
    lingerMs: env.ISSUER_LINGER_MS,
    errorThresholdPercentage: env.BREAKER_ERROR_PERCENT,
    volumeThreshold: env.BREAKER_VOLUME_THRESHOLD,
    resetTimeoutMs: env.BREAKER_RESET_MS,
  });
  issuer.breaker.on('open', () => log.warn({ breaker: 'issuer' }, 'circuit breaker opened'));
  issuer.breaker.on('halfOpen', () => log.info({ breaker: 'issuer' }, 'circuit breaker half-open'));
  issuer.breaker.on('close', () => log.info({ breaker: 'issuer' }, 'circuit breaker closed'));
  const metrics = createGatewayMetrics();
  metrics.watchBreaker('issuer', issuer.breaker);
  metrics.watchLimiter(limiter);
  metrics.watchEdge({ auth, clients });

  const shutdown = new Shutdown(log, env.SHUTDOWN_TIMEOUT_MS);
  const app = createApp({
    issuer,
    limiter,
    auth,
    clients,
    trustedProxies: env.TRUSTED_PROXIES,
    log,
    adminToken: env.ADMIN_TOKEN,
    draining: () => shutdown.draining,
    metrics,
    publicMetrics: false,
  });
  const server = await listen(app, env.PORT, env.HOST, { draining: () => shutdown.draining });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${localHost(env.HOST)}:${port}`;
  log.info({ url, host: env.HOST }, 'gateway listening');

  // /metrics on a listener of its own (the management port), so the public one never serves it.
  const management = new Hono<Env>();
  metricsRoute(management, metrics.registry);
  const metricsServer = await listen(management, env.METRICS_PORT, env.METRICS_HOST);
  const metricsPort = (metricsServer.address() as AddressInfo).port;
  const metricsUrl = `http://${localHost(env.METRICS_HOST)}:${metricsPort}`;
  log.info({ url: `${metricsUrl}/metrics`, host: env.METRICS_HOST }, 'metrics listening');

  // SIGTERM: /ready is 503 from the first instant (shutdown.draining); requests that still come
  // are served, with `Connection: close`, until the load balancer has seen the 503 and stopped
  // sending; then the listener closes and the requests in flight finish.
  shutdown
    .add('wait for the load balancer', () => sleep(env.DRAIN_DELAY_MS))
    .add('drain http', () => closeServer(server))
    .add('close metrics listener', () => closeServer(metricsServer))
    .add('close issuer client', () => issuer.close())
    .add('stop rate limiter', () => limiter.stop())
    .add('close redis', () => redis?.quit());
  return {
    port,
    url,
    metricsPort,
    metricsUrl,
    issuer,
    clients,
    shutdown,
    stop: () => shutdown.run('stop'),
  };
}

async function authenticator(env: GatewayEnv, log: Logger): Promise<Authenticator> {
  const key = await loadVerificationKey({
    secret: env.AUTH_JWT_SECRET,
    publicKey: env.AUTH_JWT_PUBLIC_KEY,
    jwksFile: env.AUTH_JWKS_FILE,
    jwksUrl: env.AUTH_JWKS_URL,
    jwksCooldownSec: env.AUTH_JWKS_COOLDOWN_S,
    jwksMaxAgeSec: env.AUTH_JWKS_MAX_AGE_S,
    jwksTimeoutMs: env.AUTH_JWKS_TIMEOUT_MS,
  });
  log.info(
    {
      auth: 'jwt',
      key: key.describe,
      algorithms: key.algorithms,
      issuer: env.AUTH_ISSUER,
      audience: env.AUTH_AUDIENCE,
    },
    'bearer JWT required on the issue and status routes',
  );
  return new Authenticator({
    key,
    issuer: env.AUTH_ISSUER,
    audience: env.AUTH_AUDIENCE,
    clockSkewSec: env.AUTH_CLOCK_SKEW_S,
    maxTokenBytes: env.AUTH_MAX_TOKEN_BYTES,
    cacheSize: env.AUTH_CACHE_SIZE,
  });
}

/** An address to reach a listener on `host` from this machine (a wildcard listener answers on loopback). */
function localHost(host: string): string {
  if (host === '0.0.0.0' || host === '::' || host === '') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}
