import { type CouponChange, couponChange, couponWindow } from '@coupon/contracts';
import { type Env, errorResponse, jsonResponse } from '@coupon/kit';
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import type { InternalCalls } from '../../issuer-client.js';
import { couponIdParam } from '../params.js';
import { actorHeaders, type ChangeDeps, recordChange } from './changes.js';
import { adminErrors, adminSecurity } from './responses.js';

const pauseRoute = (action: 'pause' | 'resume') =>
  createRoute({
    method: 'post',
    path: `/coupons/{couponId}/${action}`,
    tags: ['admin'],
    operationId: `${action}Coupon`,
    summary: action === 'pause' ? 'Pause a coupon (kill switch)' : 'Resume a paused coupon',
    description:
      action === 'pause'
        ? 'Every issuer refuses admissions at once with 409 `COUPON_PAUSED` until the coupon is resumed. ' +
          'The flag is in MySQL and in the gate Redis holds, so a rebuilt gate keeps it. Logged and counted.'
        : 'Admissions resume at once on every issuer. Logged and counted.',
    security: adminSecurity,
    request: { params: z.object({ couponId: couponIdParam }), headers: actorHeaders },
    responses: {
      200: jsonResponse('The coupon before and after.', couponChange),
      400: errorResponse('Malformed id or actor', ['INVALID_REQUEST']),
      404: errorResponse('Unknown coupon', ['COUPON_NOT_FOUND']),
      ...adminErrors,
    },
  });

const windowRoute = createRoute({
  method: 'patch',
  path: '/coupons/{couponId}/window',
  tags: ['admin'],
  operationId: 'moveCouponWindow',
  summary: "Move a coupon's window",
  description:
    'Either bound or both; the window that results must close after it opens. Takes effect at once ' +
    'on every issuer (MySQL and the gate). Logged and counted.',
  security: adminSecurity,
  request: {
    params: z.object({ couponId: couponIdParam }),
    headers: actorHeaders,
    body: { required: true, content: { 'application/json': { schema: couponWindow } } },
  },
  responses: {
    200: jsonResponse('The coupon before and after.', couponChange),
    400: errorResponse('Malformed body, or closesAt not after opensAt', ['INVALID_REQUEST']),
    404: errorResponse('Unknown coupon', ['COUPON_NOT_FOUND']),
    413: errorResponse('Body over 16 KiB', ['PAYLOAD_TOO_LARGE']),
    ...adminErrors,
  },
});

/** The operator's controls of one coupon: pause, resume, move its window (the issuer applies them). */
export function registerChangeCoupon(
  admin: OpenAPIHono<Env>,
  deps: ChangeDeps & { issuer: InternalCalls },
): void {
  for (const action of ['pause', 'resume'] as const)
    admin.openapi(pauseRoute(action), async (c) => {
      const { couponId } = c.req.valid('param');
      const path = `/internal/coupons/${couponId}/${action}`;
      const change = await deps.issuer.post<CouponChange>(path, {}, c.get('requestId'));
      recordChange(deps, c, action, change, { couponId });
      return c.json(change, 200);
    });
  admin.openapi(windowRoute, async (c) => {
    const { couponId } = c.req.valid('param');
    const path = `/internal/coupons/${couponId}/window`;
    const change = await deps.issuer.patch<CouponChange>(path, c.req.valid('json'), c.get('requestId'));
    recordChange(deps, c, 'move_window', change, { couponId });
    return c.json(change, 200);
  });
}
