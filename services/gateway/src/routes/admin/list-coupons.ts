import { type CouponPage, couponPage, couponPageQuery } from '@coupon/contracts';
import { type Env, errorResponse, jsonResponse } from '@coupon/kit';
import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import type { InternalCalls } from '../../issuer-client.js';
import { adminErrors, adminSecurity } from './responses.js';

const listCouponsRoute = createRoute({
  method: 'get',
  path: '/coupons',
  tags: ['admin'],
  operationId: 'listCoupons',
  summary: 'Coupon events by id, a page at a time',
  description: "Pass the answer's `next` as `after` for the following page; the last page has no `next`.",
  security: adminSecurity,
  request: { query: couponPageQuery },
  responses: {
    200: jsonResponse('A page of coupons.', couponPage),
    400: errorResponse('Malformed query', ['INVALID_REQUEST']),
    ...adminErrors,
  },
});

export function registerListCoupons(admin: OpenAPIHono<Env>, deps: { issuer: InternalCalls }): void {
  admin.openapi(listCouponsRoute, async (c) => {
    const { after, limit } = c.req.valid('query');
    const path = `/internal/coupons?after=${after}&limit=${limit}`;
    return c.json(await deps.issuer.get<CouponPage>(path, c.get('requestId')), 200);
  });
}
