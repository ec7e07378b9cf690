import { boolish } from '@coupon/kit';
import { z } from 'zod';
import { parseTrustedProxies } from './client-address.js';

/** The per-client limits and the client address of the gateway's env.ts (docs/fairness.md). */
export const fairnessEnv = {
  /**
   * Issue requests one user (the path's userId, the token's `sub` with AUTH_MODE=jwt) may make per
   * second on this gateway (with RATE_LIMIT_SHARED, across gateways); past it 429 + Retry-After,
   * before the issuer is asked. A user hammering after a 409 costs a map lookup. 0: no limit.
   */
  RATE_LIMIT_USER_PER_SEC: z.coerce.number().int().min(0).default(5),
  /**
   * With RATE_LIMIT_SHARED: keep the per-user counters in Redis, one call per request (true), or in
   * each gateway (false), exact only when the load balancer sends every request of a user to the same
   * gateway, as scripts/start --ha's HAProxy does (it hashes the path's userId; decisions/0018).
   */
  RATE_LIMIT_USER_SHARED: boolish.default(true),
  /**
   * Issue requests one client address may make per second (many ids from one script). Off by
   * default: a carrier's NAT puts thousands of users behind one address, and a load test on this
   * machine comes from one; set it above the most users one address of yours carries. 0: no limit.
   */
  RATE_LIMIT_ADDRESS_PER_SEC: z.coerce.number().int().min(0).default(0),
  /**
   * Peers whose X-Forwarded-For is believed (comma-separated addresses or CIDRs, or `loopback`,
   * `linklocal`, `uniquelocal`): the client address is the rightmost one in it not itself trusted.
   * Empty: the peer's address, X-Forwarded-For ignored. scripts/start --ha sets `loopback` (HAProxy).
   */
  TRUSTED_PROXIES: z
    .string()
    .default('')
    .transform((s, ctx) => {
      try {
        return parseTrustedProxies(s);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
        return z.NEVER;
      }
    }),
};
