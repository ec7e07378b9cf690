import { couponPage, couponPageQuery } from '@coupon/contracts';
import { type Env, errorResponse, jsonResponse } from '@coupon/kit';
import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { type CouponDeps, listCoupons } from '../coupons.js';
import { internalErrors, internalSecurity } from './common.js';

const listCouponsRoute = createRoute({
  method: 'get',
  path: '/coupons',
  tags: ['coupons'],
  operationId: 'listCoupons',
  summary: 'Coupons from MySQL, by id, a page at a time',
  security: internalSecurity,
  request: { query: couponPageQuery },
  responses: {
    200: jsonResponse('A page of coupons.', couponPage),
    400: errorResponse('Malformed query', ['INVALID_REQUEST']),
    ...internalErrors,
  },
});

export function registerListCoupons(internal: OpenAPIHono<Env>, deps: CouponDeps): void {
  internal.openapi(listCouponsRoute, async (c) => {
    const { after, limit } = c.req.valid('query');
    return c.json(await listCoupons(deps, after, limit), 200);
  });
}
