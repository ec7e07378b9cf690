import type { z } from 'zod';
import type { ErrorCode } from './errors.js';

/** An error answer an operation declares: what it means and the `error.code`s it carries. */
export interface ErrorAnswer {
  description: string;
  codes: [ErrorCode, ...ErrorCode[]];
}

/**
 * One HTTP operation, declared once: what the server validates and answers, what a client sends.
 * The services build their routes and OpenAPI entries from it (kit's routeOf), a client its calls
 * (adminClient). `path` is relative to where a service mounts the API (ADMIN_BASE, INTERNAL_BASE).
 */
export interface OperationSpec {
  method: 'get' | 'post' | 'patch';
  path: string;
  summary: string;
  description?: string;
  params?: z.ZodObject;
  query?: z.ZodObject;
  body?: z.ZodType;
  ok: { status: 200 | 201; description: string; schema: z.ZodType };
  /** Its failures besides malformed input (the 400 follows from what it takes) and each side's own. */
  errors?: { 404?: ErrorAnswer };
  /** What else makes its input invalid than the schemas' shapes say, for the 400's description. */
  invalid?: string;
  /** A change of state: logged with its actor (ADMIN_ACTOR_HEADER) and counted under this name. */
  change?: string;
}

export type Operation = OperationSpec & { operationId: string };

/** Declares operations by name: each one's operationId is its key. */
export function operations<const T extends Record<string, OperationSpec>>(
  specs: T,
): { [K in keyof T & string]: T[K] & { operationId: K } } {
  return Object.fromEntries(
    Object.entries(specs).map(([operationId, spec]) => [operationId, { ...spec, operationId }]),
  ) as { [K in keyof T & string]: T[K] & { operationId: K } };
}

/** What a call of the operation passes, in this order: path params, query, body (each if it takes one). */
export type OperationArgs<O extends OperationSpec> = [
  ...(O extends { params: infer P extends z.ZodType } ? [params: z.output<P>] : []),
  ...(O extends { query: infer Q extends z.ZodType } ? [query?: Partial<z.output<Q>>] : []),
  ...(O extends { body: infer B extends z.ZodType } ? [body: z.input<B>] : []),
];

/** What the operation answers on success. */
export type OperationResult<O extends OperationSpec> = z.output<O['ok']['schema']>;

/** `/coupons/{couponId}/pause` with `{ couponId: 7 }` is `/coupons/7/pause`; the query's given fields follow. */
export function pathOf(
  op: Pick<OperationSpec, 'path'>,
  params: Record<string, unknown> = {},
  query: Record<string, unknown> = {},
): string {
  const path = op.path.replaceAll(/\{(\w+)\}/g, (_, name: string) =>
    encodeURIComponent(String(params[name])),
  );
  const search = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined) search.set(k, String(v));
  const qs = search.toString();
  return qs ? `${path}?${qs}` : path;
}
