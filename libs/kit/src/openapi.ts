import { type ErrorCode, errorBodySchema } from '@coupon/contracts';
import { OpenAPIHono, z } from '@hono/zod-openapi';
import { type Env, fail } from './http.js';

/**
 * An app whose declared routes (app.openapi) answer a failed validation with the one error body:
 * 400 INVALID_REQUEST, the message naming each bad field. Routes added with app.get/app.post stay
 * plain Hono routes: no validator runs on them.
 */
export function createOpenAPIApp(): OpenAPIHono<Env> {
  return new OpenAPIHono<Env>({
    defaultHook: (result, c) => {
      if (!result.success) return fail(c, 'INVALID_REQUEST', describeIssues(result.error));
      return undefined;
    },
  });
}

/** `userId: must be a positive integer; quantity: Invalid input` */
function describeIssues(error: z.core.$ZodError): string {
  return error.issues
    .map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message))
    .join('; ');
}

const json = (schema: z.ZodType) => ({ 'application/json': { schema } });

/**
 * A documented error answer: the one error body with `error.code` narrowed to the codes this
 * route answers with at this status; `retryAfter` documents the Retry-After header.
 */
export function errorResponse(description: string, codes: [ErrorCode, ...ErrorCode[]], retryAfter = false) {
  const schema = errorBodySchema.extend({
    error: errorBodySchema.shape.error.extend({ code: z.enum(codes) }),
  });
  return {
    description: `${description} (\`${codes.join('`, `')}\`)`,
    content: json(schema),
    ...(retryAfter
      ? {
          headers: {
            'Retry-After': {
              description: 'Seconds to wait before trying again.',
              schema: { type: 'integer' as const },
            },
          },
        }
      : {}),
  };
}

/** A documented JSON answer. */
export function jsonResponse(description: string, schema: z.ZodType) {
  return { description, content: json(schema) };
}

type Document = ReturnType<OpenAPIHono<Env>['getOpenAPI31Document']>;
type DocumentConfig = Parameters<OpenAPIHono<Env>['getOpenAPI31Document']>[0];

/**
 * GET /openapi.json: the OpenAPI 3.1 document generated from the app's declared routes, built once
 * on the first request (after every route is registered).
 */
export function serveDocument(app: OpenAPIHono<Env>, config: Omit<DocumentConfig, 'openapi'>): void {
  let doc: Document | undefined;
  app.get('/openapi.json', (c) => {
    doc ??= app.getOpenAPI31Document({ openapi: '3.1.0', ...config });
    return c.json(doc);
  });
}

const readyBody = z.object({
  status: z.enum(['ready', 'not ready', 'draining']),
  checks: z.record(z.string(), z.boolean()).optional(),
});

/** Declares /health and /ready (served by healthRoutes) in the document. */
export function declareHealth(app: OpenAPIHono<Env>, readyMeans: string): void {
  const tags = ['operations'];
  app.openAPIRegistry.registerPath({
    method: 'get',
    path: '/health',
    tags,
    operationId: 'health',
    summary: 'Liveness: the process answers',
    responses: { 200: jsonResponse('Alive.', z.object({ status: z.literal('ok') })) },
  });
  app.openAPIRegistry.registerPath({
    method: 'get',
    path: '/ready',
    tags,
    operationId: 'ready',
    summary: `Readiness: ${readyMeans}`,
    responses: {
      200: jsonResponse('Ready.', readyBody),
      503: jsonResponse('Draining, or a check failed (`checks` says which).', readyBody),
    },
  });
}
