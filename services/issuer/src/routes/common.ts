import { INTERNAL_TOKEN_HEADER, idParam } from '@coupon/contracts';
import { errorResponse } from '@coupon/kit';

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

export const couponIdParam = idParam.meta({ description: "The coupon's id.", example: '1' });
export const userIdParam = idParam.meta({ description: "The user's id.", example: '42' });
