import { errorResponse } from '@coupon/kit';

/** What every admin route may answer besides its own outcomes. */
export const adminErrors = {
  401: errorResponse('No bearer token', ['UNAUTHORIZED']),
  403: errorResponse('Wrong bearer token', ['FORBIDDEN']),
  503: errorResponse('The issuer is unreachable', ['UNAVAILABLE'], true),
} as const;

/** Name of the admin routes' security scheme in the OpenAPI document. */
export const ADMIN_SECURITY = 'adminBearer';
export const adminSecurity = [{ [ADMIN_SECURITY]: [] }];
