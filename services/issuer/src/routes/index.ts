import { INTERNAL_TOKEN_HEADER } from '@coupon/contracts';
import { type Env, requireToken } from '@coupon/kit';
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { CouponDeps } from '../coupons.js';
import type { IssueService } from '../issue.js';
import { INTERNAL_SECURITY, internalTokenScheme } from './common.js';
import { registerCouponAdmin } from './coupons.js';
import { registerIssueBatch } from './issue-batch.js';
import { registerIssueState } from './issue-state.js';

/** /internal/* (INTERNAL_BASE): the gateway's calls, behind the shared INTERNAL_TOKEN. */
export function registerInternal(
  internal: OpenAPIHono<Env>,
  deps: CouponDeps & { issues: IssueService; internalToken: string },
): void {
  internal.openAPIRegistry.registerComponent('securitySchemes', INTERNAL_SECURITY, internalTokenScheme);
  internal.use(requireToken(INTERNAL_TOKEN_HEADER, deps.internalToken));
  registerIssueBatch(internal, deps);
  registerCouponAdmin(internal, deps);
  registerIssueState(internal, deps);
}
