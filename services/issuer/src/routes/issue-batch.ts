import { AppError, type IssueBatchItem, issueBatchRequest, issueBatchResponse } from '@coupon/contracts';
import { type Env, errorResponse, fail, jsonBody, jsonResponse } from '@coupon/kit';
import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { CouponUnavailable, type IssueService } from '../issue.js';
import { internalErrors, internalSecurity } from './common.js';

const issueBatchRoute = createRoute({
  method: 'post',
  path: '/issue-batch',
  tags: ['issue'],
  operationId: 'issueBatch',
  summary: 'Decide a batch at the gate in one Redis pipeline (what the gateway calls)',
  description:
    'One result per request, in order. An item that could not be decided carries an `UNAVAILABLE` ' +
    'error; `scope: "coupon"` says only that coupon is unavailable (its gate is being rebuilt).',
  security: internalSecurity,
  request: { body: { required: true, content: { 'application/json': { schema: issueBatchRequest } } } },
  responses: {
    200: jsonResponse('One result per request, in order.', issueBatchResponse),
    400: errorResponse('Malformed body', ['INVALID_REQUEST']),
    ...internalErrors,
  },
});

/**
 * The hot internal path (one call per gateway batch): declared in the document, served by a plain
 * handler that validates with the same contracts schema, so no extra middleware runs per batch.
 */
export function registerIssueBatch(internal: OpenAPIHono<Env>, deps: { issues: IssueService }): void {
  internal.openAPIRegistry.registerPath(issueBatchRoute);
  internal.post('/issue-batch', async (c) => {
    const parsed = issueBatchRequest.safeParse(await jsonBody(c));
    if (!parsed.success)
      return fail(c, 'INVALID_REQUEST', 'requests: 1 to 1000 items of couponId, userId and requestId');
    const results = await deps.issues.issueMany(parsed.data.requests);
    return c.json({
      results: results.map(
        (r): IssueBatchItem =>
          r instanceof CouponUnavailable
            ? { error: { code: 'UNAVAILABLE', message: r.message, scope: 'coupon' } }
            : r instanceof AppError
              ? { error: { code: 'UNAVAILABLE', message: r.message } }
              : r,
      ),
    });
  });
}
