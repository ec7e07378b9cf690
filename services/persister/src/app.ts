import type { DbPool } from '@coupon/db';
import { type Env, healthRoutes, installErrorHandler, type Logger, requestId } from '@coupon/kit';
import { Hono } from 'hono';

export interface PersisterDeps {
  pool: DbPool;
  log: Logger;
  draining: () => boolean;
  consumerReady: () => boolean;
}

/** The persister's small HTTP surface: health and readiness (metrics join later). */
export function createApp(deps: PersisterDeps): Hono<Env> {
  const app = new Hono<Env>();
  app.use(requestId());
  installErrorHandler(app, deps.log);
  healthRoutes(app, async () => ({ consumer: deps.consumerReady(), database: await deps.pool.ping() }), deps.draining);
  return app;
}
