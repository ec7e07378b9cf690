import { couponView } from '@coupon/contracts';
import { type Env, errorResponse, jsonResponse } from '@coupon/kit';
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { type CouponDeps, getCoupon, view } from '../coupons.js';
import { couponIdParam, internalErrors, internalSecurity } from './common.js';

const getCouponRoute = createRoute({
  method: 'get',
  path: '/coupons/{couponId}',
  tags: ['coupons'],
  operationId: 'getCoupon',
  summary: 'A coupon, from MySQL',
  security: internalSecurity,
  request: { params: z.object({ couponId: couponIdParam }) },
  responses: {
    200: jsonResponse('The coupon.', couponView),
    400: errorResponse('Malformed id', ['INVALID_REQUEST']),
    404: errorResponse('Unknown coupon', ['COUPON_NOT_FOUND']),
    ...internalErrors,
  },
});

export function registerGetCoupon(internal: OpenAPIHono<Env>, deps: CouponDeps): void {
  internal.openapi(getCouponRoute, async (c) =>
    c.json(view(await getCoupon(deps, c.req.valid('param').couponId)), 200),
  );
}
