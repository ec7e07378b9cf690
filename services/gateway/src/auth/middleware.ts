import { parseId } from '@coupon/contracts';
import { type Env, fail } from '@coupon/kit';
import type { MiddlewareHandler } from 'hono';
import type { Authenticator } from './authenticator.js';

/**
 * The token check of the issue route (issue.ts does it inline) for the other routes of one user:
 * the path's `userId` must be the token's `sub`. A malformed userId goes on to the route's own
 * validation (400).
 */
export const requireUser =
  (auth: Authenticator): MiddlewareHandler<Env> =>
  async (c, next) => {
    const userId = parseId(c.req.param('userId'));
    if (userId !== undefined) {
      const denied = await auth.check(c.req.header('authorization'), userId);
      if (denied) return fail(c, denied.code, denied.message, denied.headers);
    }
    await next();
    return undefined;
  };
