import type { Operation, OperationSpec } from '@coupon/contracts';
import { createRoute, type z } from '@hono/zod-openapi';
import { errorResponse, jsonResponse } from './openapi.js';

type Json<S> = { 'application/json': { schema: S } };
type None = Record<never, never>;

/** How one service serves the operations it declares: its tag, its security, what every route may answer. */
export interface RouteSide<H extends z.ZodObject | undefined = undefined> {
  tags: string[];
  security: Record<string, string[]>[];
  /** Answers every route of the side may give besides its own outcomes (401, 403, 503). */
  errors: Record<number, ReturnType<typeof errorResponse>>;
  /** Headers a change takes here (the gateway's x-admin-actor); "actor" in the 400's description. */
  changeHeaders?: H;
  /** What the side's body limit answers (413), on the routes that take a body. */
  bodyLimit?: string;
}

/**
 * The route as OpenAPIHono types it: the request's parts (so `c.req.valid(...)` knows them) and the
 * success answer (so a handler returns what is declared); the failures are thrown (AppError).
 */
export type RouteOf<O extends OperationSpec, H> = {
  method: O['method'];
  path: O['path'];
  request: (O extends { params: infer P } ? { params: P } : None) &
    (O extends { query: infer Q } ? { query: Q } : None) &
    (O extends { body: infer B } ? { body: { required: true; content: Json<B> } } : None) &
    (O extends { change: string } ? { headers: H } : None);
  responses: {
    [S in O['ok']['status']]: { description: string; content: Json<O['ok']['schema']> };
  };
};

/** "Malformed id or actor", "Malformed id, body or actor, or closesAt not after opensAt". */
function malformed(parts: string[], invalid: string | undefined): string {
  const last = parts.pop();
  const what = parts.length ? `${parts.join(', ')} or ${last}` : last;
  return `Malformed ${what}${invalid ? `, or ${invalid}` : ''}`;
}

/**
 * An operation declared in contracts as this side's route: what it takes is validated, its 400
 * describes what it takes, and its document entry carries the side's tag, security and failures.
 * `text`, when given, stands for the declaration's summary and description (a side that says it its own way).
 */
export function routeOf<const O extends Operation, H extends z.ZodObject | undefined = undefined>(
  op: O,
  side: RouteSide<H>,
  text?: { summary: string; description?: string },
): RouteOf<O, H> {
  const headers = op.change ? side.changeHeaders : undefined;
  const parts = [
    op.params && (Object.keys(op.params.shape).length > 1 ? 'ids' : 'id'),
    op.query && 'query',
    op.body && 'body',
    headers && 'actor',
  ].filter((p): p is string => typeof p === 'string');
  const route = createRoute({
    method: op.method,
    path: op.path,
    tags: side.tags,
    operationId: op.operationId,
    summary: (text ?? op).summary,
    description: (text ?? op).description,
    security: side.security,
    request: {
      ...(op.params ? { params: op.params } : {}),
      ...(op.query ? { query: op.query } : {}),
      ...(headers ? { headers } : {}),
      ...(op.body ? { body: { required: true, content: { 'application/json': { schema: op.body } } } } : {}),
    },
    responses: {
      [op.ok.status]: jsonResponse(op.ok.description, op.ok.schema),
      ...(parts.length ? { 400: errorResponse(malformed(parts, op.invalid), ['INVALID_REQUEST']) } : {}),
      ...(op.errors?.[404] ? { 404: errorResponse(op.errors[404].description, op.errors[404].codes) } : {}),
      ...(op.body && side.bodyLimit ? { 413: errorResponse(side.bodyLimit, ['PAYLOAD_TOO_LARGE']) } : {}),
      ...side.errors,
    },
  });
  return route as unknown as RouteOf<O, H>;
}
