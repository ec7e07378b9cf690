import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { type ClientLimit, GATE_CHANGED_CHANNEL, SETTINGS_CHANNEL } from '@coupon/contracts';
import {
  closeServer,
  createLogger,
  createRedis,
  type Env,
  type Logger,
  listen,
  logShipperOf,
  logShipTarget,
  metricsRoute,
  redisTarget,
  Shutdown,
  watchLogShipping,
} from '@coupon/kit';
import { Hono } from 'hono';
import { createApp } from './app.js';
import { Authenticator } from './auth/authenticator.js';
import { loadVerificationKey } from './auth/keys.js';
import { EdgeSoldOut } from './edge.js';
import { edgeAnswer } from './edge-answer.js';
import type { GatewayEnv } from './env.js';
import { ClientLimiter } from './fairness/client-limiter.js';
import { IssuerClient } from './issuer-client.js';
import { createGatewayMetrics } from './metrics.js';
import { RateLimiter } from './rate-limit.js';
import { RuntimeSettingsStore } from './settings.js';

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
  log: Logger = createLogger('gateway', env.LOG_LEVEL, logShipTarget(env)),
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
    sharedUsers: env.RATE_LIMIT_USER_SHARED,
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
    log,
  });
  issuer.breaker.on('open', () => log.warn({ breaker: 'issuer' }, 'circuit breaker opened'));
  issuer.breaker.on('halfOpen', () => log.info({ breaker: 'issuer' }, 'circuit breaker half-open'));
  issuer.breaker.on('close', () => log.info({ breaker: 'issuer' }, 'circuit breaker closed'));
  const metrics = createGatewayMetrics();
  watchLogShipping(metrics.registry, logShipperOf(log));
  metrics.watchBreaker('issuer', issuer.breaker);
  metrics.watchLimiter(limiter);
  metrics.watchClients({ auth, clients });

  // The operator's run-time settings and the edge's sold-out answers (settings.ts, edge.ts): one
  // client for commands, one subscribed to both channels.
  const control = createRedis({ ...redisTarget(env), failFast: false }, log);
  const subscriber = createRedis({ ...redisTarget(env), failFast: false }, log);
  const settings = new RuntimeSettingsStore({
    redis: control,
    defaults: {
      rate: { perSecond: env.RATE_LIMIT_PER_SEC, burst: env.RATE_LIMIT_BURST },
      perUser: perSecond(env.RATE_LIMIT_USER_PER_SEC),
      perAddress: perSecond(env.RATE_LIMIT_ADDRESS_PER_SEC),
      edgeSoldOutTtlMs: env.EDGE_SOLD_OUT_TTL_MS,
    },
    pollMs: env.SETTINGS_POLL_MS,
    log,
  });
  const edge = new EdgeSoldOut(env.EDGE_SOLD_OUT_TTL_MS);
  metrics.watchEdge(edge);
  settings.subscribe((next, previous) => {
    if (next.rate.perSecond !== previous.rate.perSecond || next.rate.burst !== previous.rate.burst)
      limiter
        .setRate(next.rate.perSecond, next.rate.burst)
        .catch((err: unknown) => log.warn({ err }, 'rate limiter: new rate not applied to the bucket'));
    if (next.edgeSoldOutTtlMs !== previous.edgeSoldOutTtlMs) edge.setTtl(next.edgeSoldOutTtlMs);
    if (!sameLimit(next.perUser, previous.perUser) || !sameLimit(next.perAddress, previous.perAddress))
      clients.setWindows(next.perUser, next.perAddress);
  });
  subscriber.on('message', (channel: string, message: string) => {
    if (channel === GATE_CHANGED_CHANNEL) edge.changed(Number(message));
    else if (channel === SETTINGS_CHANNEL) void settings.refresh(message);
  });
  // Announcements missed while disconnected are not replayed: keep no edge answer meanwhile.
  for (const event of ['close', 'reconnecting', 'end']) subscriber.on(event, () => edge.setLive(false));
  subscriber.on('ready', () => {
    edge.setLive(true);
    void settings.refresh().catch(() => undefined);
  });
  void subscriber.subscribe(GATE_CHANGED_CHANNEL, SETTINGS_CHANNEL).then(
    () => edge.setLive(subscriber.status === 'ready'),
    (err: unknown) => log.warn({ err }, 'pub/sub subscription failed: no edge answers'),
  );
  await settings.start();
  clients.setWindows(settings.effective.perUser, settings.effective.perAddress);

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
    settings,
    edge,
  });
  const server = await listen(app, env.PORT, env.HOST, {
    draining: () => shutdown.draining,
    before: edgeAnswer({ edge, clients, answered: (s) => metrics.answeredBeforeRoute(s) }),
  });
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
    .add('stop run-time settings', async () => {
      settings.stop();
      edge.setLive(false);
      subscriber.disconnect();
      await control.quit().catch(() => undefined);
    })
    .add('close redis', () => redis?.quit())
    .add('flush logs', () => logShipperOf(log)?.close());
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

/** The environment's per-second client limit as a run-time settings window (0: off, no window). */
function perSecond(points: number): ClientLimit | null {
  return points > 0 ? { points, durationSec: 1 } : null;
}

function sameLimit(a: ClientLimit | null, b: ClientLimit | null): boolean {
  return a === b || (a !== null && b !== null && a.points === b.points && a.durationSec === b.durationSec);
}
