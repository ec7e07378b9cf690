import {
  AppError,
  createCoupon as createCouponSchema,
  INTERNAL_TOKEN_HEADER,
  type IssueBatchItem,
  issueBatchRequest,
  issueRequest,
  parseId,
} from '@coupon/contracts';
import type { DbPool } from '@coupon/db';
import type { Gate } from '@coupon/gate';
import {
  type Env,
  fail,
  healthRoutes,
  installErrorHandler,
  instrumentApp,
  jsonBody,
  type Logger,
  type Registry,
  requestId,
  requireToken,
} from '@coupon/kit';
import { Hono } from 'hono';
import type { Redis } from 'ioredis';
import { couponStats, createCoupon, getCoupon, issueState, view } from './coupons.js';
import { CouponUnavailable, type IssueService } from './issue.js';

export interface IssuerDeps {
  issues: IssueService;
  gate: Gate;
  pool: DbPool;
  redis: Redis;
  log: Logger;
  internalToken: string;
  draining: () => boolean;
  kafkaReady: () => boolean;
  /** Serves /metrics and times requests when given. */
  registry?: Registry;
}

/** The issuer's internal HTTP API. Never listens by itself; main.ts serves it. */
export function createApp(deps: IssuerDeps): Hono<Env> {
  const app = new Hono<Env>();
  if (deps.registry) instrumentApp(app, deps.registry);
  app.use(requestId());
  installErrorHandler(app, deps.log);
  healthRoutes(
    app,
    async () => ({
      redis: deps.redis.status === 'ready',
      kafka: deps.kafkaReady(),
      database: await deps.pool.ping(),
    }),
    deps.draining,
  );

  const internal = new Hono<Env>();
  internal.use(requireToken(INTERNAL_TOKEN_HEADER, deps.internalToken));

  internal.post('/issue', async (c) => {
    const parsed = issueRequest.safeParse(await jsonBody(c));
    if (!parsed.success) return fail(c, 'INVALID_REQUEST', 'couponId, userId and requestId are required');
    return c.json(await deps.issues.issue(parsed.data));
  });

  internal.post('/issue-batch', async (c) => {
    const parsed = issueBatchRequest.safeParse(await jsonBody(c));
    if (!parsed.success)
      return fail(c, 'INVALID_REQUEST', 'requests: 1 to 1000 items of couponId, userId and requestId');
    const results = await deps.issues.issueMany(parsed.data.requests);
    return c.json({
      results: results.map(
        (r): IssueBatchItem =>
          r instanceof CouponUnavailable
            ? { error: { code: 'UNAVAILABLE', message: r.message, scope: 'coupon' } }
            : r instanceof AppError
              ? { error: { code: 'UNAVAILABLE', message: r.message } }
              : r,
      ),
    });
  });

  internal.post('/coupons', async (c) => {
    const parsed = createCouponSchema.safeParse(await jsonBody(c));
    if (!parsed.success)
      return fail(
        c,
        'INVALID_REQUEST',
        parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
      );
    return c.json(await createCoupon(deps, parsed.data), 201);
  });

  internal.get('/coupons/:couponId', async (c) => {
    const id = parseId(c.req.param('couponId'));
    if (id === undefined) return fail(c, 'INVALID_REQUEST', 'couponId must be a positive integer');
    return c.json(view(await getCoupon(deps, id)));
  });

  internal.get('/coupons/:couponId/stats', async (c) => {
    const id = parseId(c.req.param('couponId'));
    if (id === undefined) return fail(c, 'INVALID_REQUEST', 'couponId must be a positive integer');
    return c.json(await couponStats(deps, id));
  });

  internal.get('/coupons/:couponId/users/:userId', async (c) => {
    const couponId = parseId(c.req.param('couponId'));
    const userId = parseId(c.req.param('userId'));
    if (couponId === undefined || userId === undefined)
      return fail(c, 'INVALID_REQUEST', 'ids must be positive integers');
    return c.json({ couponId, userId, state: await issueState(deps, couponId, userId) });
  });

  app.route('/internal', internal);
  return app;
}
