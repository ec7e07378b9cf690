import { INTERNAL_BASE } from '@coupon/contracts';
import type { DbPool } from '@coupon/db';
import type { Gate } from '@coupon/gate';
import {
  createOpenAPIApp,
  declareHealth,
  type Env,
  healthRoutes,
  installErrorHandler,
  instrumentApp,
  type Logger,
  type Registry,
  requestId,
  serveDocument,
} from '@coupon/kit';
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Redis } from 'ioredis';
import type { IssueService } from './issue.js';
import { registerInternal } from './routes/index.js';

export interface IssuerDeps {
  issues: IssueService;
  gate: Gate;
  pool: DbPool;
  /** Status and statistics reads (DATABASE_READ_URL); the writer pool when none is set. */
  readPool?: DbPool;
  redis: Redis;
  log: Logger;
  internalToken: string;
  draining: () => boolean;
  kafkaReady: () => boolean;
  /** Serves /metrics and times requests when given. */
  registry?: Registry;
}

/** The issuer's internal HTTP API. Never listens by itself; main.ts serves it. */
export function createApp(deps: IssuerDeps): OpenAPIHono<Env> {
  const app = createOpenAPIApp();
  if (deps.registry) instrumentApp(app, deps.registry);
  app.use(requestId());
  installErrorHandler(app, deps.log);
  healthRoutes(
    app,
    async () => ({
      redis: deps.redis.status === 'ready',
      kafka: deps.kafkaReady(),
      database: await deps.pool.ping(),
    }),
    deps.draining,
  );

  const internal = createOpenAPIApp();
  registerInternal(internal, { ...deps, readPool: deps.readPool ?? deps.pool });
  app.route(INTERNAL_BASE, internal);
  declareHealth(app, 'Redis, Kafka and MySQL answer and the issuer is not draining');
  // The document is served without the token: it describes the API and grants nothing (every
  // /internal route still needs INTERNAL_TOKEN), and the issuer listens on loopback by default.
  serveDocument(app, {
    info: {
      title: 'coupon issuer (internal)',
      version: '0.1.0',
      description:
        'Called by the gateway only. Every error answers with one body, ' +
        '`{ "error": { "code", "message", "requestId" } }`.',
    },
    tags: [
      { name: 'issue', description: 'The Redis gate and the Kafka producer.' },
      { name: 'coupons', description: 'Coupon events and their counts.' },
      { name: 'operations', description: 'Health checks.' },
    ],
  });
  return app;
}
