import { type CouponView, couponView, createCoupon } from '@coupon/contracts';
import { type Env, errorResponse, jsonResponse } from '@coupon/kit';
import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import type { InternalCalls } from '../../issuer-client.js';
import { adminErrors, adminSecurity } from './responses.js';

const createCouponRoute = createRoute({
  method: 'post',
  path: '/coupons',
  tags: ['admin'],
  operationId: 'createCoupon',
  summary: 'Create a coupon event',
  description:
    'Writes the coupon to MySQL, then loads its gate into Redis. The window defaults to now … forever.',
  security: adminSecurity,
  request: { body: { required: true, content: { 'application/json': { schema: createCoupon } } } },
  responses: {
    201: jsonResponse('Created.', couponView),
    400: errorResponse('Malformed body', ['INVALID_REQUEST']),
    413: errorResponse('Body over 16 KiB', ['PAYLOAD_TOO_LARGE']),
    ...adminErrors,
  },
});

export function registerCreateCoupon(admin: OpenAPIHono<Env>, deps: { issuer: InternalCalls }): void {
  admin.openapi(createCouponRoute, async (c) =>
    c.json(
      await deps.issuer.post<CouponView>('/internal/coupons', c.req.valid('json'), c.get('requestId')),
      201,
    ),
  );
}
