import { actorHeaders } from '@coupon/contracts';
import { errorResponse, type RouteSide } from '@coupon/kit';

/** Name of the admin routes' security scheme in the OpenAPI document. */
export const ADMIN_SECURITY = 'adminBearer';

/** The largest body an admin route takes (the only routes that take one). */
export const BODY_LIMIT = 16 * 1024;

/** How the gateway serves contracts' admin operations: behind ADMIN_TOKEN, a change naming its actor. */
export const GATEWAY_ADMIN: RouteSide<typeof actorHeaders> = {
  tags: ['admin'],
  security: [{ [ADMIN_SECURITY]: [] }],
  errors: {
    401: errorResponse('No bearer token', ['UNAUTHORIZED']),
    403: errorResponse('Wrong bearer token', ['FORBIDDEN']),
    503: errorResponse('The issuer is unreachable', ['UNAVAILABLE'], true),
  },
  changeHeaders: actorHeaders,
  bodyLimit: `Body over ${BODY_LIMIT / 1024} KiB`,
};
