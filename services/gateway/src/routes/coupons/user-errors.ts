import { errorResponse } from '@coupon/kit';

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
