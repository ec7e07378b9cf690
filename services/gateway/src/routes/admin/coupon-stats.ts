import { type CouponStats, couponStats } from '@coupon/contracts';
import { type Env, errorResponse, jsonResponse } from '@coupon/kit';
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import type { InternalCalls } from '../../issuer-client.js';
import { couponIdParam } from '../params.js';
import { adminErrors, adminSecurity } from './responses.js';

const couponStatsRoute = createRoute({
  method: 'get',
  path: '/coupons/{couponId}/stats',
  tags: ['admin'],
  operationId: 'couponStats',
  summary: 'Admitted, remaining, persisted, DLT and refused counts of a coupon',
  security: adminSecurity,
  request: { params: z.object({ couponId: couponIdParam }) },
  responses: {
    200: jsonResponse('The counts.', couponStats),
    400: errorResponse('Malformed id', ['INVALID_REQUEST']),
    404: errorResponse('Unknown coupon', ['COUPON_NOT_FOUND']),
    ...adminErrors,
  },
});

export function registerCouponStats(admin: OpenAPIHono<Env>, deps: { issuer: InternalCalls }): void {
  admin.openapi(couponStatsRoute, async (c) => {
    const { couponId } = c.req.valid('param');
    const path = `/internal/coupons/${couponId}/stats`;
    return c.json(await deps.issuer.get<CouponStats>(path, c.get('requestId')), 200);
  });
}
