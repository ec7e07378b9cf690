import { couponView, createCoupon as createCouponSchema } from '@coupon/contracts';
import { type Env, errorResponse, jsonResponse } from '@coupon/kit';
import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { type CouponDeps, createCoupon } from '../coupons.js';
import { internalErrors, internalSecurity } from './common.js';

const createCouponRoute = createRoute({
  method: 'post',
  path: '/coupons',
  tags: ['coupons'],
  operationId: 'createCoupon',
  summary: 'Create a coupon: the row in MySQL first, then its gate in Redis',
  security: internalSecurity,
  request: { body: { required: true, content: { 'application/json': { schema: createCouponSchema } } } },
  responses: {
    201: jsonResponse('Created.', couponView),
    400: errorResponse('Malformed body', ['INVALID_REQUEST']),
    ...internalErrors,
  },
});

export function registerCreateCoupon(internal: OpenAPIHono<Env>, deps: CouponDeps): void {
  internal.openapi(createCouponRoute, async (c) =>
    c.json(await createCoupon(deps, c.req.valid('json')), 201),
  );
}
