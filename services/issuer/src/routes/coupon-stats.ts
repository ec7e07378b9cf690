import { couponStats as couponStatsSchema } from '@coupon/contracts';
import { type Env, errorResponse, jsonResponse } from '@coupon/kit';
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { type CouponDeps, couponStats } from '../coupons.js';
import { couponIdParam, internalErrors, internalSecurity } from './common.js';

const couponStatsRoute = createRoute({
  method: 'get',
  path: '/coupons/{couponId}/stats',
  tags: ['coupons'],
  operationId: 'couponStats',
  summary: "A coupon's gate (Redis), rows (MySQL), DLT and refused counts",
  security: internalSecurity,
  request: { params: z.object({ couponId: couponIdParam }) },
  responses: {
    200: jsonResponse('The counts.', couponStatsSchema),
    400: errorResponse('Malformed id', ['INVALID_REQUEST']),
    404: errorResponse('Unknown coupon', ['COUPON_NOT_FOUND']),
    ...internalErrors,
  },
});

export function registerCouponStats(internal: OpenAPIHono<Env>, deps: CouponDeps): void {
  internal.openapi(couponStatsRoute, async (c) =>
    c.json(await couponStats(deps, c.req.valid('param').couponId), 200),
  );
}
