import { couponChange, couponWindow } from '@coupon/contracts';
import { type Env, errorResponse, jsonResponse } from '@coupon/kit';
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { type CouponDeps, changeCoupon, windowControls } from '../coupons.js';
import { couponIdParam, internalErrors, internalSecurity } from './common.js';

const pauseRoute = (action: 'pause' | 'resume') =>
  createRoute({
    method: 'post',
    path: `/coupons/{couponId}/${action}`,
    tags: ['coupons'],
    operationId: `${action}Coupon`,
    summary:
      action === 'pause'
        ? 'Kill switch: nobody is admitted (COUPON_PAUSED) until resumed; in MySQL and the gate'
        : 'Lift the kill switch',
    security: internalSecurity,
    request: { params: z.object({ couponId: couponIdParam }) },
    responses: {
      200: jsonResponse('The coupon before and after.', couponChange),
      400: errorResponse('Malformed id', ['INVALID_REQUEST']),
      404: errorResponse('Unknown coupon', ['COUPON_NOT_FOUND']),
      ...internalErrors,
    },
  });

const windowRoute = createRoute({
  method: 'patch',
  path: '/coupons/{couponId}/window',
  tags: ['coupons'],
  operationId: 'moveCouponWindow',
  summary: "Move a coupon's window (opensAt, closesAt); in MySQL and the gate",
  security: internalSecurity,
  request: {
    params: z.object({ couponId: couponIdParam }),
    body: { required: true, content: { 'application/json': { schema: couponWindow } } },
  },
  responses: {
    200: jsonResponse('The coupon before and after.', couponChange),
    400: errorResponse('Malformed body, or closesAt not after opensAt', ['INVALID_REQUEST']),
    404: errorResponse('Unknown coupon', ['COUPON_NOT_FOUND']),
    ...internalErrors,
  },
});

/** POST …/pause, POST …/resume, PATCH …/window: the operator's controls of one coupon. */
export function registerChangeCoupon(internal: OpenAPIHono<Env>, deps: CouponDeps): void {
  for (const action of ['pause', 'resume'] as const)
    internal.openapi(pauseRoute(action), async (c) =>
      c.json(await changeCoupon(deps, c.req.valid('param').couponId, { paused: action === 'pause' }), 200),
    );
  internal.openapi(windowRoute, async (c) =>
    c.json(await changeCoupon(deps, c.req.valid('param').couponId, windowControls(c.req.valid('json'))), 200),
  );
}
