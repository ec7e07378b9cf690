import { closeServer, createLogger, createRedis, listen, Shutdown } from '@coupon/kit';
import { createApp } from './app.js';
import { loadEnv } from './env.js';
import { IssuerClient } from './issuer-client.js';
import { RateLimiter } from './rate-limit.js';

const env = loadEnv();
const log = createLogger('gateway', env.LOG_LEVEL);

const redis = env.RATE_LIMIT_SHARED ? createRedis({ url: env.REDIS_URL, failFast: false }, log) : undefined;
const limiter = new RateLimiter({ perSecond: env.RATE_LIMIT_PER_SEC, burst: env.RATE_LIMIT_BURST, redis });
const issuer = new IssuerClient({
  url: env.ISSUER_URL,
  token: env.INTERNAL_TOKEN,
  connections: env.ISSUER_CONNECTIONS,
  timeoutMs: env.ISSUER_TIMEOUT_MS,
  errorThresholdPercentage: env.BREAKER_ERROR_PERCENT,
  volumeThreshold: env.BREAKER_VOLUME_THRESHOLD,
  resetTimeoutMs: env.BREAKER_RESET_MS,
});
issuer.breaker.on('open', () => log.warn({ breaker: 'issuer' }, 'circuit breaker opened'));
issuer.breaker.on('halfOpen', () => log.info({ breaker: 'issuer' }, 'circuit breaker half-open'));
issuer.breaker.on('close', () => log.info({ breaker: 'issuer' }, 'circuit breaker closed'));

const shutdown = new Shutdown(log, env.SHUTDOWN_TIMEOUT_MS);
const app = createApp({ issuer, limiter, log, adminToken: env.ADMIN_TOKEN, draining: () => shutdown.draining });
const server = await listen(app, env.PORT, env.HOST);
log.info({ url: `http://${env.HOST === '0.0.0.0' ? '127.0.0.1' : env.HOST}:${env.PORT}` }, 'gateway listening');

shutdown
  .add('drain http', () => closeServer(server))
  .add('close issuer client', () => issuer.close())
  .add('stop rate limiter', () => limiter.stop())
  .add('close redis', () => redis?.quit())
  .listen();
