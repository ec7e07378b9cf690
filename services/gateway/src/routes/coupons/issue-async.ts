import { couponIdParam, issueAccepted, userIdParam } from '@coupon/contracts';
import { type Env, errorResponse, jsonResponse } from '@coupon/kit';
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { userSecurity } from '../../auth/openapi.js';
import { type IssueHandlerDeps, issueHandler } from '../../issue.js';
import type { GatewayMetrics } from '../../metrics.js';
import { userErrors } from './user-errors.js';

/** POST /coupons/{userId}/issue-async?couponId={couponId}: the outcome table of docs/outcomes.md. */
const issueAsyncRoute = (jwt: boolean) =>
  createRoute({
    method: 'post',
    path: '/coupons/{userId}/issue-async',
    tags: ['coupons'],
    operationId: 'issueCoupon',
    summary: 'Ask for a coupon, first come first served',
    description:
      'Each user gets at most one coupon and never more than its quantity is issued. A 202 means the ' +
      'admission is durable in Kafka; the row in MySQL follows within a bounded time (poll ' +
      '`GET /coupons/{userId}/issues/{couponId}`). Exactly one `couponId` query parameter.',
    request: { params: z.object({ userId: userIdParam }), query: z.object({ couponId: couponIdParam }) },
    security: userSecurity(jwt),
    responses: {
      202: jsonResponse('Admitted: the event is durable in Kafka.', issueAccepted),
      400: errorResponse('Malformed ids or query', ['INVALID_REQUEST']),
      ...userErrors,
      404: errorResponse('Unknown coupon', ['COUPON_NOT_FOUND']),
      409: errorResponse(
        'The user already has this coupon, it is sold out, it is outside its window, or an operator paused it',
        ['ALREADY_ISSUED', 'SOLD_OUT', 'COUPON_NOT_OPEN', 'COUPON_PAUSED'],
      ),
      429: errorResponse(
        "Over the rate limit: the global one, this user's or this address's",
        ['RATE_LIMITED'],
        true,
      ),
      503: errorResponse('Breaker open or a dependency down', ['UNAVAILABLE'], true),
    },
  });

/**
 * The hot path: the route is in the document, but it is served by the hand-tuned issueHandler with
 * no validator in front of it (app.openapi would add zod validation middleware per request; the
 * handler's parseId checks the same rules as contracts' idParam).
 */
export function registerIssueAsync(
  app: OpenAPIHono<Env>,
  deps: IssueHandlerDeps & { metrics?: GatewayMetrics },
): void {
  app.openAPIRegistry.registerPath(issueAsyncRoute(deps.auth !== undefined));
  if (deps.metrics) app.post('/coupons/:userId/issue-async', deps.metrics.issueResults);
  app.post('/coupons/:userId/issue-async', issueHandler(deps));
}
