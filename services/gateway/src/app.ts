import { setTimeout as sleep } from 'node:timers/promises';
import { ADMIN_BASE } from '@coupon/contracts';
import {
  createOpenAPIApp,
  declareHealth,
  type Env,
  healthRoutes,
  installErrorHandler,
  instrumentApp,
  type Logger,
  requestId,
  serveDocument,
} from '@coupon/kit';
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Authenticator } from './auth/authenticator.js';
import { declareUserSecurity } from './auth/openapi.js';
import type { EdgeSoldOut } from './edge.js';
import type { TrustedProxies } from './fairness/client-address.js';
import type { ClientLimiter } from './fairness/client-limiter.js';
import type { InternalCalls, IssueCalls } from './issuer-client.js';
import type { GatewayMetrics } from './metrics.js';
import type { RateLimiter } from './rate-limit.js';
import { registerAdmin } from './routes/admin/index.js';
import { registerIssueAsync } from './routes/coupons/issue-async.js';
import { registerIssueState } from './routes/coupons/issue-state.js';
import { serveDocs } from './routes/docs.js';
import type { RuntimeSettingsStore } from './settings.js';

export interface GatewayDeps {
  issuer: IssueCalls & InternalCalls;
  limiter: Pick<RateLimiter, 'take' | 'retryAfterSec'>;
  /** AUTH_MODE=jwt: the bearer JWT of the issue and status routes. Absent: the path's userId is believed. */
  auth?: Authenticator;
  /** Per-user and per-address limits beside the global bucket. */
  clients?: ClientLimiter;
  /** Peers whose X-Forwarded-For names the client (TRUSTED_PROXIES). */
  trustedProxies?: TrustedProxies;
  log: Logger;
  adminToken: string;
  draining: () => boolean;
  /** Optional so tests can build the app without metrics. */
  metrics?: GatewayMetrics;
  /** false when /metrics has a listener of its own (METRICS_PORT) and must not be on the public port. */
  publicMetrics?: boolean;
  /** The run-time settings every gateway follows (absent: /admin/settings answers 503). */
  settings?: RuntimeSettingsStore;
  /** Sold-out at the edge (absent: every issue request asks the issuer). */
  edge?: EdgeSoldOut;
}

/** Longest wait for the issuer's /health inside GET /ready; slower counts as not ready. */
export const READY_PROBE_MS = 1_000;

/** The public HTTP surface. Never listens by itself; main.ts serves it. */
export function createApp(deps: GatewayDeps): OpenAPIHono<Env> {
  const app = createOpenAPIApp();
  if (deps.metrics) instrumentApp(app, deps.metrics.registry, { serveMetrics: deps.publicMetrics ?? true });
  // The hot route comes before the request-id middleware: its handler takes the request id itself
  // and answers with plain headers (issue.ts), which that middleware's c.header() would defeat.
  if (deps.auth) declareUserSecurity(app);
  registerIssueAsync(app, deps);
  app.use(requestId());
  installErrorHandler(app, deps.log);
  // /ready answers within READY_PROBE_MS however slow the issuer is: a load balancer's check
  // (infra/haproxy: timeout 2 s) must tell a hung gateway from a slow issuer.
  healthRoutes(
    app,
    async () => ({
      issuer:
        (
          await Promise.race([
            deps.issuer.get<{ status: string }>('/health', 'ready-check').catch(() => undefined),
            sleep(READY_PROBE_MS, undefined, { ref: false }),
          ])
        )?.status === 'ok',
    }),
    deps.draining,
  );

  registerIssueState(app, deps);
  const admin = createOpenAPIApp();
  registerAdmin(admin, deps);
  app.route(ADMIN_BASE, admin);
  declareHealth(app, 'the issuer answers within a second and the gateway is not draining');
  serveDocument(app, {
    info: {
      title: 'coupon gateway',
      version: '0.1.0',
      description:
        'First-come-first-served coupon issuance. Every error answers with one body, ' +
        '`{ "error": { "code", "message", "requestId" } }`; clients branch on `error.code`.',
    },
    tags: [
      { name: 'coupons', description: 'The public API.' },
      {
        name: 'admin',
        description:
          "Coupon events and the operator's controls (pause, window, run-time limits), behind the " +
          'ADMIN_TOKEN bearer token. Every change is logged with its actor and counted.',
      },
      { name: 'operations', description: 'Health checks for load balancers.' },
    ],
  });
  serveDocs(app);
  return app;
}
