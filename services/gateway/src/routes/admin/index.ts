import { type Env, fail, requireBearer } from '@coupon/kit';
import type { OpenAPIHono } from '@hono/zod-openapi';
import { bodyLimit } from 'hono/body-limit';
import type { InternalCalls } from '../../issuer-client.js';
import type { RuntimeSettingsStore } from '../../settings.js';
import { registerChangeCoupon } from './change-coupon.js';
import type { ChangeDeps } from './changes.js';
import { registerCouponStats } from './coupon-stats.js';
import { registerCreateCoupon } from './create-coupon.js';
import { registerGetCoupon } from './get-coupon.js';
import { registerListCoupons } from './list-coupons.js';
import { ADMIN_SECURITY } from './responses.js';
import { registerSettings } from './settings.js';

export interface AdminDeps extends ChangeDeps {
  issuer: InternalCalls;
  adminToken: string;
  /** The run-time settings (absent in tests without Redis: its routes answer 503). */
  settings?: RuntimeSettingsStore;
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
  registerListCoupons(admin, deps);
  registerChangeCoupon(admin, deps);
  registerSettings(admin, deps);
}
