import type { Env } from '@coupon/kit';
import type { OpenAPIHono } from '@hono/zod-openapi';

/** Name of the user routes' security scheme in the OpenAPI document (AUTH_MODE=jwt). */
export const USER_SECURITY = 'userBearer';

/** `security` of the issue and status routes: a bearer JWT when the gateway checks one, else none. */
export const userSecurity = (jwt: boolean) => (jwt ? [{ [USER_SECURITY]: [] }] : undefined);

/** Declares the bearer JWT scheme, so the reference page's "Authorize" takes a token. */
export function declareUserSecurity(app: OpenAPIHono<Env>): void {
  app.openAPIRegistry.registerComponent('securitySchemes', USER_SECURITY, {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description:
      "A JWT from the identity provider whose `sub` is the path's userId (`Authorization: Bearer <JWT>`); " +
      'docs/auth.md.',
  });
}
