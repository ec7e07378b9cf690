import { type Env, fail, requireBearer } from '@coupon/kit';
import type { OpenAPIHono } from '@hono/zod-openapi';
import { bodyLimit } from 'hono/body-limit';
import type { IssuerClient } from '../../issuer-client.js';
import type { RuntimeSettingsStore } from '../../settings.js';
import type { ChangeDeps } from './changes.js';
import { registerCouponAdmin } from './forward.js';
import { ADMIN_SECURITY, BODY_LIMIT } from './responses.js';
import { registerSettings } from './settings.js';

export interface AdminDeps extends ChangeDeps {
  issuer: Pick<IssuerClient, 'call'>;
  adminToken: string;
  /** The run-time settings (absent in tests without Redis: its routes answer 503). */
  settings?: RuntimeSettingsStore;
}

/** /admin/* (contracts' ADMIN_API): behind the ADMIN_TOKEN bearer token; the only routes that take a body. */
export function registerAdmin(admin: OpenAPIHono<Env>, deps: AdminDeps): void {
  admin.openAPIRegistry.registerComponent('securitySchemes', ADMIN_SECURITY, {
    type: 'http',
    scheme: 'bearer',
    description: "The gateway's ADMIN_TOKEN: `Authorization: Bearer <ADMIN_TOKEN>`.",
  });
  // Only admin routes take a body; on the issue route bodyLimit would build a web Request and a
  // stream for every body-less POST (its cost in a profile: loadtests/RESULTS.md, "Bottlenecks").
  admin.use(
    bodyLimit({
      maxSize: BODY_LIMIT,
      onError: (c) => fail(c as never, 'PAYLOAD_TOO_LARGE', 'body too large'),
    }),
  );
  admin.use(requireBearer(deps.adminToken));
  registerCouponAdmin(admin, deps);
  registerSettings(admin, deps);
}
