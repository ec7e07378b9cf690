import { INTERNAL_TOKEN_HEADER } from '@coupon/contracts';
import { errorResponse, type RouteSide } from '@coupon/kit';

/** Name of the internal routes' security scheme in the issuer's document. */
export const INTERNAL_SECURITY = 'internalToken';
export const internalSecurity = [{ [INTERNAL_SECURITY]: [] }];
export const internalTokenScheme = {
  type: 'apiKey' as const,
  in: 'header' as const,
  name: INTERNAL_TOKEN_HEADER,
  description: 'INTERNAL_TOKEN, shared by the gateway and the issuer.',
};

/** What every internal route may answer besides its own outcomes. */
export const internalErrors = {
  401: errorResponse('No internal token', ['UNAUTHORIZED']),
  403: errorResponse('Wrong internal token', ['FORBIDDEN']),
  503: errorResponse('Redis, Kafka or MySQL is unavailable', ['UNAVAILABLE'], true),
} as const;

/** How the issuer serves contracts' coupon operations (COUPON_ADMIN), the gateway's calls. */
export const INTERNAL_COUPONS: RouteSide = {
  tags: ['coupons'],
  security: internalSecurity,
  errors: internalErrors,
};
