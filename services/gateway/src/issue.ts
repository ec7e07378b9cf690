import type { IncomingMessage } from 'node:http';
import {
  AppError,
  ERROR_CODES,
  type ErrorCode,
  errorBody,
  type IssueAccepted,
  type IssueOutcome,
  OUTCOME_HEADER,
  parseId,
  REQUEST_ID_HEADER,
} from '@coupon/contracts';
import { type Env, requestIdFrom } from '@coupon/kit';
import type { Context } from 'hono';
import type { Authenticator } from './auth/authenticator.js';
import type { EdgeSoldOut } from './edge.js';
import { clientAddress, type TrustedProxies } from './fairness/client-address.js';
import type { ClientLimiter } from './fairness/client-limiter.js';
import type { IssueCalls } from './issuer-client.js';
import type { RateLimiter } from './rate-limit.js';

/** Outcome table of docs/outcomes.md: every non-admitted outcome is a 4xx with its code. */
export const REJECTED: Record<Exclude<IssueOutcome, 'ISSUED'>, { code: ErrorCode; message: string }> = {
  ALREADY_ISSUED: { code: 'ALREADY_ISSUED', message: 'this user already has this coupon' },
  SOLD_OUT: { code: 'SOLD_OUT', message: 'the coupon is sold out' },
  COUPON_NOT_FOUND: { code: 'COUPON_NOT_FOUND', message: 'no such coupon' },
  COUPON_NOT_OPEN: { code: 'COUPON_NOT_OPEN', message: 'the coupon is not open now' },
  COUPON_PAUSED: { code: 'COUPON_PAUSED', message: 'the coupon is paused by an operator' },
};

export interface IssueHandlerDeps {
  issuer: IssueCalls;
  limiter: Pick<RateLimiter, 'take' | 'retryAfterSec'>;
  /** Sold-out at the edge (edge.ts); absent: every request asks the issuer. */
  edge?: EdgeSoldOut;
  /** AUTH_MODE=jwt; absent: the path's userId is believed (none, trusted-upstream). */
  auth?: Pick<Authenticator, 'check'>;
  /** Per-user and per-address limits; absent: only the global bucket. */
  clients?: ClientLimiter;
  trustedProxies?: TrustedProxies;
}

/**
 * The answer, with its headers as a plain object: under @hono/node-server that response is written
 * without building a Headers object (c.header()/c.json() build one per request). Every answer says
 * its outcome in OUTCOME_HEADER (ISSUED or the error code), so clients need not parse the body.
 */
function answer(
  c: Context<Env>,
  status: number,
  outcome: string,
  body: unknown,
  extra?: Record<string, string>,
): Response {
  const requestId = c.get('requestId');
  return new Response(JSON.stringify(body), {
    status,
    headers: {
      'content-type': 'application/json',
      [REQUEST_ID_HEADER]: requestId,
      [OUTCOME_HEADER]: outcome,
      ...extra,
    },
  });
}

function reject(c: Context<Env>, code: ErrorCode, message: string, extra?: Record<string, string>): Response {
  c.set('errorCode', code); // read by the metrics middleware
  return answer(c, ERROR_CODES[code], code, errorBody(code, message, c.get('requestId')), extra);
}

function throttled(c: Context<Env>, seconds: number, message: string): Response {
  return reject(c, 'RATE_LIMITED', message, { 'retry-after': String(seconds) });
}

/**
 * POST /coupons/{userId}/issue-async?couponId={couponId}. Registered ahead of the app's request-id
 * middleware, so it takes the request id itself (same rule: the caller's when well-formed).
 */
export function issueHandler(deps: IssueHandlerDeps) {
  return async (c: Context<Env>): Promise<Response> => {
    const requestId = requestIdFrom(c.req.header(REQUEST_ID_HEADER));
    c.set('requestId', requestId);
    const userId = parseId(c.req.param('userId'));
    const couponIds = c.req.queries('couponId');
    const couponId = couponIds?.length === 1 ? parseId(couponIds[0]) : undefined;
    if (userId === undefined) return reject(c, 'INVALID_REQUEST', 'userId must be a positive integer');
    if (couponId === undefined)
      return reject(
        c,
        'INVALID_REQUEST',
        'exactly one couponId query parameter, a positive integer, is required',
      );

    // Cheapest refusal first: the address (many ids from one script), then the edge's SOLD_OUT (an
    // answer about the coupon, the same for every caller, so it needs no identity: most of a crowd
    // after the stock is gone costs neither a signature check nor the issuer; decisions/0017), the
    // token, the user (hammering after a 409) once the token says who it is, the global bucket last.
    const { auth, clients, edge } = deps;
    if (clients?.limitsAddress) {
      const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
      const wait = await clients.address(clientAddress(incoming, deps.trustedProxies));
      if (wait !== undefined) return throttled(c, wait, 'too many requests from this address');
    }
    if (edge?.soldOut(couponId)) return reject(c, REJECTED.SOLD_OUT.code, REJECTED.SOLD_OUT.message);
    if (auth) {
      const d = auth.check(c.req.header('authorization'), userId);
      const denied = d instanceof Promise ? await d : d;
      if (denied) return reject(c, denied.code, denied.message, denied.headers);
    }
    if (clients) {
      const v = clients.user(userId);
      const wait = v instanceof Promise ? await v : v;
      if (wait !== undefined) return throttled(c, wait, 'too many requests for this user');
    }

    const token = deps.limiter.take();
    if (token !== true && !(await token))
      return reject(c, 'RATE_LIMITED', 'too many requests', {
        'retry-after': String(deps.limiter.retryAfterSec),
      });

    let res: Awaited<ReturnType<IssueCalls['issue']>>;
    const mark = edge?.mark ?? 0;
    try {
      res = await deps.issuer.issue({ couponId, userId, requestId });
    } catch (err) {
      if (err instanceof AppError && err.status < 500) return reject(c, err.code, err.message);
      const open = deps.issuer.breaker.opened;
      return reject(
        c,
        'UNAVAILABLE',
        open ? 'issuing is paused, try again shortly' : 'issuing is unavailable, try again shortly',
        { 'retry-after': String(deps.issuer.retryAfterSec) },
      );
    }
    if (res.outcome === 'ISSUED') {
      const body: IssueAccepted = {
        status: 'PENDING',
        issueId: res.eventId ?? '',
        couponId,
        userId,
        requestId,
      };
      return answer(c, 202, 'ISSUED', body);
    }
    if (res.outcome === 'SOLD_OUT') edge?.heard(couponId, mark);
    const r = REJECTED[res.outcome];
    return reject(c, r.code, r.message);
  };
}
