import { couponIdParam, issueStatus, userIdParam } from '@coupon/contracts';
import { type Env, errorResponse, jsonResponse } from '@coupon/kit';
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { type CouponDeps, issueState } from '../coupons.js';
import { internalErrors, internalSecurity } from './common.js';

const issueStateRoute = createRoute({
  method: 'get',
  path: '/coupons/{couponId}/users/{userId}',
  tags: ['coupons'],
  operationId: 'issueState',
  summary: "Where a user's coupon stands: ISSUED, PENDING, REFUSED or NONE",
  security: internalSecurity,
  request: { params: z.object({ couponId: couponIdParam, userId: userIdParam }) },
  responses: {
    200: jsonResponse('The state.', issueStatus),
    400: errorResponse('Malformed ids', ['INVALID_REQUEST']),
    ...internalErrors,
  },
});

export function registerIssueState(internal: OpenAPIHono<Env>, deps: CouponDeps): void {
  internal.openapi(issueStateRoute, async (c) => {
    const { couponId, userId } = c.req.valid('param');
    return c.json({ couponId, userId, state: await issueState(deps, couponId, userId) }, 200);
  });
}
