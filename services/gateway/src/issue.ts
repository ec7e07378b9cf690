import { AppError, type ErrorCode, type IssueAccepted, type IssueOutcome, parseId } from '@coupon/contracts';
import { type Env, fail } from '@coupon/kit';
import type { Context } from 'hono';
import type { IssuerClient } from './issuer-client.js';
import type { RateLimiter } from './rate-limit.js';

/** Outcome table of docs/outcomes.md: every non-admitted outcome is a 4xx with its code. */
const REJECTED: Record<Exclude<IssueOutcome, 'ISSUED'>, { code: ErrorCode; message: string }> = {
  ALREADY_ISSUED: { code: 'ALREADY_ISSUED', message: 'this user already has this coupon' },
  SOLD_OUT: { code: 'SOLD_OUT', message: 'the coupon is sold out' },
  COUPON_NOT_FOUND: { code: 'COUPON_NOT_FOUND', message: 'no such coupon' },
  COUPON_NOT_OPEN: { code: 'COUPON_NOT_OPEN', message: 'the coupon is not open now' },
};

export interface IssueHandlerDeps {
  issuer: IssuerClient;
  limiter: RateLimiter;
}

/** POST /coupons/{userId}/issue-async?couponId={couponId} */
export function issueHandler(deps: IssueHandlerDeps) {
  return async (c: Context<Env>): Promise<Response> => {
    const userId = parseId(c.req.param('userId'));
    const couponIds = c.req.queries('couponId');
    const couponId = couponIds?.length === 1 ? parseId(couponIds[0]) : undefined;
    if (userId === undefined) return fail(c, 'INVALID_REQUEST', 'userId must be a positive integer');
    if (couponId === undefined)
      return fail(
        c,
        'INVALID_REQUEST',
        'exactly one couponId query parameter, a positive integer, is required',
      );

    const token = deps.limiter.take();
    if (token !== true && !(await token))
      return fail(c, 'RATE_LIMITED', 'too many requests', {
        'Retry-After': String(deps.limiter.retryAfterSec),
      });

    const requestId = c.get('requestId');
    let res: Awaited<ReturnType<IssuerClient['issue']>>;
    try {
      res = await deps.issuer.issue({ couponId, userId, requestId });
    } catch (err) {
      if (err instanceof AppError && err.status < 500) return fail(c, err.code, err.message);
      const open = deps.issuer.breaker.opened;
      return fail(
        c,
        'UNAVAILABLE',
        open ? 'issuing is paused, try again shortly' : 'issuing is unavailable, try again shortly',
        {
          'Retry-After': String(deps.issuer.retryAfterSec),
        },
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
      return c.json(body, 202);
    }
    const r = REJECTED[res.outcome];
    return fail(c, r.code, r.message);
  };
}
