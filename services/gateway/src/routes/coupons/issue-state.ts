import { type IssueStatus, issueStatus } from '@coupon/contracts';
import { type Env, errorResponse, jsonResponse } from '@coupon/kit';
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import type { IssuerClient } from '../../issuer-client.js';
import { couponIdParam, userIdParam } from '../params.js';

const issueStateRoute = createRoute({
  method: 'get',
  path: '/coupons/{userId}/issues/{couponId}',
  tags: ['coupons'],
  operationId: 'issueState',
  summary: "Where a user's coupon stands",
  description:
    '`ISSUED`: the row exists. `PENDING`: admitted, row not yet written. `REFUSED`: admitted, but ' +
    "MySQL's quantity guard refused the row (final). `NONE`: not admitted.",
  request: { params: z.object({ userId: userIdParam, couponId: couponIdParam }) },
  responses: {
    200: jsonResponse('The state.', issueStatus),
    400: errorResponse('Malformed ids', ['INVALID_REQUEST']),
    503: errorResponse('The issuer is unreachable', ['UNAVAILABLE'], true),
  },
});

export function registerIssueState(app: OpenAPIHono<Env>, deps: { issuer: IssuerClient }): void {
  app.openapi(issueStateRoute, async (c) => {
    const { userId, couponId } = c.req.valid('param');
    const path = `/internal/coupons/${couponId}/users/${userId}`;
    return c.json(await deps.issuer.get<IssueStatus>(path, c.get('requestId')), 200);
  });
}
