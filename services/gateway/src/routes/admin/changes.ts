import { ADMIN_ACTOR_HEADER, type AdminChange } from '@coupon/contracts';
import type { Env, Logger } from '@coupon/kit';
import type { Context } from 'hono';
import type { GatewayMetrics } from '../../metrics.js';

/**
 * Who made a change, for its log line: the `x-admin-actor` header (a name, an e-mail, a ticket id;
 * contracts' actorHeaders) or, without it, the name of the credential itself. The bearer token
 * authenticates; the header only names the person behind it (anyone holding the token can write any name).
 */
export const TOKEN_ACTOR = 'ADMIN_TOKEN';

export interface ChangeDeps {
  log: Logger;
  metrics?: GatewayMetrics;
}

/**
 * One 'admin change' log line (actor, action, target, old and new values) and one increment of
 * admin_changes_total{action}: how every operator change is recorded.
 */
export function recordChange(
  deps: ChangeDeps,
  c: Context<Env>,
  action: AdminChange,
  change: { previous: unknown; current: unknown },
  target: Record<string, unknown> = {},
): void {
  deps.metrics?.adminChange(action);
  deps.log.info(
    {
      admin: {
        actor: c.req.header(ADMIN_ACTOR_HEADER) ?? TOKEN_ACTOR,
        action,
        ...target,
        previous: change.previous,
        current: change.current,
      },
      requestId: c.get('requestId'),
    },
    'admin change',
  );
}
