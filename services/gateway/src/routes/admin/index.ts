import { type Env, fail, requireBearer } from '@coupon/kit';
import type { OpenAPIHono } from '@hono/zod-openapi';
import { bodyLimit } from 'hono/body-limit';
import type { IssuerClient } from '../../issuer-client.js';
import { registerCouponStats } from './coupon-stats.js';
import { registerCreateCoupon } from './create-coupon.js';
import { registerGetCoupon } from './get-coupon.js';
import { ADMIN_SECURITY } from './responses.js';

export interface AdminDeps {
  issuer: IssuerClient;
  adminToken: string;
}

/** /admin/*: behind the ADMIN_TOKEN bearer token; the only routes that take a body. */
export function registerAdmin(admin: OpenAPIHono<Env>, deps: AdminDeps): void {
  admin.openAPIRegistry.registerComponent('securitySchemes', ADMIN_SECURITY, {
    type: 'http',
    scheme: 'bearer',
    description: "The gateway's ADMIN_TOKEN: `Authorization: Bearer <ADMIN_TOKEN>`.",
  });
  // Only admin routes take a body; on the issue route bodyLimit would build a web Request and a
  // stream for every body-less POST (12 % of gateway CPU in a profile under the seed load).
  admin.use(
    bodyLimit({
      maxSize: 16 * 1024,
      onError: (c) => fail(c as never, 'PAYLOAD_TOO_LARGE', 'body too large'),
    }),
  );
  admin.use(requireBearer(deps.adminToken));
  registerCreateCoupon(admin, deps);
  registerGetCoupon(admin, deps);
  registerCouponStats(admin, deps);
}
