import { issueRequest, issueResponse } from '@coupon/contracts';
import { type Env, errorResponse, jsonResponse } from '@coupon/kit';
import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import type { IssueService } from '../issue.js';
import { internalErrors, internalSecurity } from './common.js';

const issueRoute = createRoute({
  method: 'post',
  path: '/issue',
  tags: ['issue'],
  operationId: 'issue',
  summary: 'Decide one request at the gate; answers after Kafka acknowledged an admission',
  security: internalSecurity,
  request: { body: { required: true, content: { 'application/json': { schema: issueRequest } } } },
  responses: {
    200: jsonResponse('The gate decided (`eventId` when ISSUED).', issueResponse),
    400: errorResponse('Malformed body', ['INVALID_REQUEST']),
    ...internalErrors,
  },
});

export function registerIssue(internal: OpenAPIHono<Env>, deps: { issues: IssueService }): void {
  internal.openapi(issueRoute, async (c) => c.json(await deps.issues.issue(c.req.valid('json')), 200));
}
