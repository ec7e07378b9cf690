import { type AdminChange, COUPON_ADMIN, INTERNAL_BASE, type Operation, pathOf } from '@coupon/contracts';
import { type Env, routeOf } from '@coupon/kit';
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { IssuerClient } from '../../issuer-client.js';
import { type ChangeDeps, recordChange } from './changes.js';
import { GATEWAY_ADMIN } from './responses.js';

type Valid = (target: 'param' | 'query' | 'json') => Record<string, unknown> | undefined;

/**
 * The coupon operations (contracts' COUPON_ADMIN): the gateway checks the token and the input and
 * forwards them to the issuer, whose routes are built from the same declarations; it logs and
 * counts the changes.
 */
export function registerCouponAdmin(
  admin: OpenAPIHono<Env>,
  deps: ChangeDeps & { issuer: Pick<IssuerClient, 'call'> },
): void {
  for (const op of Object.values(COUPON_ADMIN) as Operation[])
    admin.openapi(routeOf(op, GATEWAY_ADMIN), async (c) => {
      const valid: Valid = (target) => (c.req.valid as Valid).call(c.req, target);
      const params = valid('param');
      const path = `${INTERNAL_BASE}${pathOf(op, params, valid('query'))}`;
      const method = op.method.toUpperCase() as Uppercase<Operation['method']>;
      const answer = await deps.issuer.call<object>(method, path, valid('json'), c.get('requestId'));
      const change = answer as { previous: unknown; current: unknown };
      if (op.change) recordChange(deps, c, op.change as AdminChange, change, params);
      return c.json(answer, op.ok.status);
    });
}
