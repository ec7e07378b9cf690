import { type CouponView, couponView } from '@coupon/contracts';
import { type Env, errorResponse, jsonResponse } from '@coupon/kit';
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import type { InternalCalls } from '../../issuer-client.js';
import { couponIdParam } from '../params.js';
import { adminErrors, adminSecurity } from './responses.js';

const getCouponRoute = createRoute({
  method: 'get',
  path: '/coupons/{couponId}',
  tags: ['admin'],
  operationId: 'getCoupon',
  summary: 'A coupon event',
  security: adminSecurity,
  request: { params: z.object({ couponId: couponIdParam }) },
  responses: {
    200: jsonResponse('The coupon.', couponView),
    400: errorResponse('Malformed id', ['INVALID_REQUEST']),
    404: errorResponse('Unknown coupon', ['COUPON_NOT_FOUND']),
    ...adminErrors,
  },
});

export function registerGetCoupon(admin: OpenAPIHono<Env>, deps: { issuer: InternalCalls }): void {
  admin.openapi(getCouponRoute, async (c) => {
    const { couponId } = c.req.valid('param');
    return c.json(
      await deps.issuer.get<CouponView>(`/internal/coupons/${couponId}`, c.get('requestId')),
      200,
    );
  });
}
