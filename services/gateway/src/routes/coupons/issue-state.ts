import { couponIdParam, type IssueStatus, issueStatus, userIdParam } from '@coupon/contracts';
import { type Env, errorResponse, jsonResponse } from '@coupon/kit';
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import type { Authenticator } from '../../auth/authenticator.js';
import { requireUser } from '../../auth/middleware.js';
import { userSecurity } from '../../auth/openapi.js';
import type { InternalCalls } from '../../issuer-client.js';
import { userErrors } from './user-errors.js';

const issueStateRoute = (jwt: boolean) =>
  createRoute({
    method: 'get',
    path: '/coupons/{userId}/issues/{couponId}',
    tags: ['coupons'],
    operationId: 'issueState',
    summary: "Where a user's coupon stands",
    description:
      '`ISSUED`: the row exists. `PENDING`: admitted, row not yet written. `REFUSED`: admitted, but ' +
      "MySQL's quantity guard refused the row (final). `NONE`: not admitted.",
    request: { params: z.object({ userId: userIdParam, couponId: couponIdParam }) },
    security: userSecurity(jwt),
    responses: {
      200: jsonResponse('The state.', issueStatus),
      400: errorResponse('Malformed ids', ['INVALID_REQUEST']),
      ...userErrors,
      503: errorResponse('The issuer is unreachable', ['UNAVAILABLE'], true),
    },
  });

export function registerIssueState(
  app: OpenAPIHono<Env>,
  deps: { issuer: InternalCalls; auth?: Authenticator },
): void {
  if (deps.auth) app.use('/coupons/:userId/issues/:couponId', requireUser(deps.auth));
  app.openapi(issueStateRoute(deps.auth !== undefined), async (c) => {
    const { userId, couponId } = c.req.valid('param');
    const path = `/internal/coupons/${couponId}/users/${userId}`;
    return c.json(await deps.issuer.get<IssueStatus>(path, c.get('requestId')), 200);
  });
}
