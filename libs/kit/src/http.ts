import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import { AppError, ERROR_CODES, type ErrorCode, errorBody, REQUEST_ID_HEADER } from '@coupon/contracts';
import type { Context, Hono, MiddlewareHandler } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { Logger } from './log.js';

/** errorCode: set by fail(), so metrics can count answers by code without reading the body. */
export type Vars = { requestId: string; errorCode?: ErrorCode };
export type Env = { Variables: Vars };

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/** The caller's x-request-id when well-formed, else a new one. */
export function requestIdFrom(given: string | undefined): string {
  return given && REQUEST_ID.test(given) ? given : randomUUID();
}

/** Takes a well-formed x-request-id from the caller, or makes one; echoes it on the answer. */
export const requestId = (): MiddlewareHandler<Env> => async (c, next) => {
  const id = requestIdFrom(c.req.header(REQUEST_ID_HEADER));
  c.set('requestId', id);
  c.header(REQUEST_ID_HEADER, id);
  await next();
};

export function fail(
  c: Context<Env>,
  code: ErrorCode,
  message: string,
  headers?: Record<string, string>,
): Response {
  const status = ERROR_CODES[code] as ContentfulStatusCode;
  if (headers) for (const [k, v] of Object.entries(headers)) c.header(k, v);
  c.set('errorCode', code);
  return c.json(errorBody(code, message, c.get('requestId') ?? 'none'), status);
}

/** One error mapping for the whole app: AppError by its code, anything else a 500 without a stack. */
export function installErrorHandler(app: Hono<Env>, log: Logger): void {
  app.onError((err, c) => {
    if (err instanceof AppError) {
      if (err.code === 'UNAVAILABLE') c.header('Retry-After', '1');
      return fail(c, err.code, err.message);
    }
    const status = (err as { status?: number }).status;
    if (status === 413) return fail(c, 'PAYLOAD_TOO_LARGE', 'request too large');
    // A declared JSON body sent as another media type (@hono/zod-openapi answers 415): one more
    // malformed request, under the one code clients already handle.
    if (status === 415) return fail(c, 'INVALID_REQUEST', 'the body must be application/json');
    if (status === 400) return fail(c, 'INVALID_REQUEST', 'malformed request');
    log.error({ err, requestId: c.get('requestId') }, 'unhandled error');
    return fail(c, 'INTERNAL', 'internal error');
  });
  app.notFound((c) => fail(c, 'NOT_FOUND', 'no such route'));
}

const sha256 = (s: string) => createHash('sha256').update(s).digest();

/** Constant-time token comparison (hashes first so lengths do not leak either). */
export function tokenMatches(given: string | undefined, expected: string | Buffer): boolean {
  if (!given) return false;
  return timingSafeEqual(sha256(given), typeof expected === 'string' ? sha256(expected) : expected);
}

/**
 * 401 without a token, 403 with a wrong one. The token is the header's value, or with `scheme` the
 * rest of `<scheme> <token>` (a value in another scheme counts as a wrong token).
 */
export const requireToken = (header: string, expected: string, scheme?: string): MiddlewareHandler<Env> => {
  // Hashed once: every internal call (an issue batch) checks the token (CPU.md, the --ha profile).
  const want = sha256(expected);
  return async (c, next) => {
    const value = c.req.header(header);
    if (!value) return fail(c, 'UNAUTHORIZED', `missing ${scheme ? `${scheme} token` : header}`);
    const given = scheme ? tokenIn(value, scheme) : value;
    if (!tokenMatches(given, want)) return fail(c, 'FORBIDDEN', 'invalid token');
    await next();
    return undefined;
  };
};

/** `authorization: Bearer <expected>`, as requireToken checks it. */
export const requireBearer = (expected: string): MiddlewareHandler<Env> =>
  requireToken('authorization', expected, 'Bearer');

function tokenIn(value: string, scheme: string): string | undefined {
  return value.startsWith(`${scheme} `) ? value.slice(scheme.length + 1) : undefined;
}

/** The request body as JSON; a body that is not JSON is the one 400 INVALID_REQUEST answer. */
export async function jsonBody(c: Context<Env>): Promise<unknown> {
  try {
    return await c.req.json();
  } catch {
    throw new AppError('INVALID_REQUEST', 'body must be JSON');
  }
}

/** GET /health: the process is alive. GET /ready: dependencies reachable and not draining. */
export function healthRoutes(
  app: Hono<Env>,
  ready: () => Promise<Record<string, boolean>>,
  draining: () => boolean,
) {
  app.get('/health', (c) => c.json({ status: 'ok' }));
  app.get('/ready', async (c) => {
    if (draining()) return c.json({ status: 'draining' }, 503);
    const checks = await ready().catch(() => ({ checks: false }));
    const ok = Object.values(checks).every(Boolean);
    return c.json({ status: ok ? 'ready' : 'not ready', checks }, ok ? 200 : 503);
  });
}
