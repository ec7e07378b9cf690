import type { DbPool } from '@coupon/db';
import {
  type Env,
  healthRoutes,
  installErrorHandler,
  instrumentApp,
  type Logger,
  type Registry,
  requestId,
} from '@coupon/kit';
import { Hono } from 'hono';

export interface PersisterDeps {
  pool: DbPool;
  log: Logger;
  draining: () => boolean;
  consumerReady: () => boolean;
  /** Serves /metrics and times requests when given. */
  registry?: Registry;
}

/** The persister's small HTTP surface: health, readiness and metrics. */
export function createApp(deps: PersisterDeps): Hono<Env> {
  const app = new Hono<Env>();
  if (deps.registry) instrumentApp(app, deps.registry);
  app.use(requestId());
  installErrorHandler(app, deps.log);
  healthRoutes(
    app,
    async () => ({ consumer: deps.consumerReady(), database: await deps.pool.ping() }),
    deps.draining,
  );
  return app;
}
