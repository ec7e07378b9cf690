import { idParam } from '@coupon/contracts';
import { errorResponse } from '@coupon/kit';

// zod's own .meta(), not .openapi(): contracts' schemas are built before @hono/zod-openapi extends
// zod, so they lack .openapi(); zod-to-openapi reads .meta() all the same.
/** Ids in paths and queries: plain decimal digits (contracts' idParam), with an example for the reference page. */
export const userIdParam = idParam.meta({ description: "The user's id.", example: '42' });
export const couponIdParam = idParam.meta({ description: "The coupon's id.", example: '1' });

/** What a user route answers when the gateway checks a bearer JWT (AUTH_MODE=jwt; docs/auth.md). */
export const userErrors = {
  401: {
    ...errorResponse('AUTH_MODE=jwt: no bearer JWT, or a malformed, badly signed, expired or oversized one', [
      'UNAUTHENTICATED',
    ]),
    headers: {
      'WWW-Authenticate': {
        description: 'The Bearer challenge (RFC 6750), with `error="invalid_token"` when a token was sent.',
        schema: { type: 'string' as const },
      },
    },
  },
  403: errorResponse("AUTH_MODE=jwt: the token's `sub` is another user", ['FORBIDDEN']),
} as const;
