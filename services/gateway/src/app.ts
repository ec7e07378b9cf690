import { setTimeout as sleep } from 'node:timers/promises';
import { parseId } from '@coupon/contracts';
import {
  type Env,
  fail,
  healthRoutes,
  installErrorHandler,
  instrumentApp,
  type Logger,
  requestId,
  tokenMatches,
} from '@coupon/kit';
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { issueHandler } from './issue.js';
import type { IssuerClient } from './issuer-client.js';
import type { GatewayMetrics } from './metrics.js';
import type { RateLimiter } from './rate-limit.js';

export interface GatewayDeps {
  issuer: IssuerClient;
  limiter: RateLimiter;
  log: Logger;
  adminToken: string;
  draining: () => boolean;
  /** Optional so tests can build the app without metrics. */
  metrics?: GatewayMetrics;
  /** false when /metrics has a listener of its own (METRICS_PORT) and must not be on the public port. */
  publicMetrics?: boolean;
}

/** Longest wait for the issuer's /health inside GET /ready; slower counts as not ready. */
export const READY_PROBE_MS = 1_000;

/** The public HTTP surface. Never listens by itself; main.ts serves it. */
export function createApp(deps: GatewayDeps): Hono<Env> {
  const app = new Hono<Env>();
  if (deps.metrics) instrumentApp(app, deps.metrics.registry, { serveMetrics: deps.publicMetrics ?? true });
  // The hot route comes before the request-id middleware: its handler takes the request id itself
  // and answers with plain headers (issue.ts), which that middleware's c.header() would defeat.
  if (deps.metrics) app.post('/coupons/:userId/issue-async', deps.metrics.issueResults);
  app.post('/coupons/:userId/issue-async', issueHandler(deps));
  app.use(requestId());
  installErrorHandler(app, deps.log);
  // /ready answers within READY_PROBE_MS however slow the issuer is: a load balancer's check
  // (infra/haproxy: timeout 2 s) must tell a hung gateway from a slow issuer.
  healthRoutes(
    app,
    async () => ({
      issuer:
        (
          await Promise.race([
            deps.issuer.get<{ status: string }>('/health', 'ready-check').catch(() => undefined),
            sleep(READY_PROBE_MS, undefined, { ref: false }),
          ])
        )?.status === 'ok',
    }),
    deps.draining,
  );

  app.get('/coupons/:userId/issues/:couponId', async (c) => {
    const userId = parseId(c.req.param('userId'));
    const couponId = parseId(c.req.param('couponId'));
    if (userId === undefined || couponId === undefined)
      return fail(c, 'INVALID_REQUEST', 'ids must be positive integers');
    return c.json(await deps.issuer.get(`/internal/coupons/${couponId}/users/${userId}`, c.get('requestId')));
  });

  const admin = new Hono<Env>();
  // Only admin routes take a body; on the issue route bodyLimit would build a web Request and a
  // stream for every body-less POST (12 % of gateway CPU in a profile under the seed load).
  admin.use(
    bodyLimit({
      maxSize: 16 * 1024,
      onError: (c) => fail(c as never, 'PAYLOAD_TOO_LARGE', 'body too large'),
    }),
  );
  admin.use(async (c, next) => {
    const auth = c.req.header('authorization');
    if (!auth) return fail(c, 'UNAUTHORIZED', 'missing bearer token');
    const token = auth.startsWith('Bearer ') ? auth.slice(7) : undefined;
    if (!tokenMatches(token, deps.adminToken)) return fail(c, 'FORBIDDEN', 'invalid token');
    await next();
    return undefined;
  });
  admin.post('/coupons', async (c) => {
    const body = await c.req.json().catch(() => undefined);
    if (body === undefined) return fail(c, 'INVALID_REQUEST', 'body must be JSON');
    return c.json(await deps.issuer.post('/internal/coupons', body, c.get('requestId')), 201);
  });
  admin.get('/coupons/:couponId', async (c) => {
    const id = parseId(c.req.param('couponId'));
    if (id === undefined) return fail(c, 'INVALID_REQUEST', 'couponId must be a positive integer');
    return c.json(await deps.issuer.get(`/internal/coupons/${id}`, c.get('requestId')));
  });
  admin.get('/coupons/:couponId/stats', async (c) => {
    const id = parseId(c.req.param('couponId'));
    if (id === undefined) return fail(c, 'INVALID_REQUEST', 'couponId must be a positive integer');
    return c.json(await deps.issuer.get(`/internal/coupons/${id}/stats`, c.get('requestId')));
  });
  app.route('/admin', admin);
  return app;
}
