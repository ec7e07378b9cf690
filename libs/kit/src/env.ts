import { z } from 'zod';
import { DEV_TOKENS } from './bind.js';
import { parseSentinels } from './redis.js';

/**
 * Parses the environment once at start-up. A bad variable stops the process with a message that
 * names it; nothing else in a service reads process.env.
 */
export function parseEnv<S extends z.ZodType>(
  schema: S,
  source: NodeJS.ProcessEnv = process.env,
): z.infer<S> {
  const result = schema.safeParse(source);
  if (result.success) return result.data;
  const lines = result.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`);
  throw new Error(`invalid environment:\n${lines.join('\n')}`);
}

/** Common variables: every service reads its dependencies' addresses under the same names. */
export const commonEnv = {
  /** Log level for pino. */
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Grace period for shutdown: in-flight work gets this long to drain before the process exits. */
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
  /**
   * A log store (VictoriaLogs, `infra/local/stack up victorialogs`: http://127.0.0.1:9428) that every
   * log line is also shipped to, off the hot path; empty: stdout only (the files of the quick start).
   */
  LOG_SHIP_URL: z.union([z.literal(''), z.url()]).default(''),
  /** Lines held while the log store is slow or down; past it lines are dropped and counted (log_ship_lines_total). */
  LOG_SHIP_BUFFER: z.coerce.number().int().min(1).max(1_000_000).default(10_000),
};

/** The shipping target for createLogger, or undefined when LOG_SHIP_URL is empty. */
export function logShipTarget(env: {
  LOG_SHIP_URL: string;
  LOG_SHIP_BUFFER: number;
}): { url: string; maxBuffered: number } | undefined {
  return env.LOG_SHIP_URL ? { url: env.LOG_SHIP_URL, maxBuffered: env.LOG_SHIP_BUFFER } : undefined;
}

/** For a service behind a load balancer that health-checks GET /ready. */
export const drainEnv = {
  /**
   * After SIGTERM, /ready answers 503 at once and the service keeps serving (every answer with
   * `Connection: close`) for this long before it closes its listener, so the load balancer's health
   * check takes it out first: at least check interval × fall + one check's latency. 2000 behind
   * infra/haproxy (500 ms checks, fall 2); 0 (close at once) with no load balancer in front.
   */
  DRAIN_DELAY_MS: z.coerce.number().int().min(0).max(60_000).default(0),
};

export const redisEnv = {
  /**
   * Redis holding the gate (stock and admitted users). Production: appendonly yes, noeviction. With
   * REDIS_SENTINELS set, only its database number (/N) and credentials are used.
   */
  REDIS_URL: z.url().default('redis://127.0.0.1:6380'),
  /**
   * Comma-separated Sentinels (host:port) that name the current Redis primary and announce its
   * failovers; empty: REDIS_URL is the Redis itself. `infra/local/stack --ha env` prints them.
   */
  REDIS_SENTINELS: z
    .string()
    .default('')
    .transform((s, ctx) => {
      try {
        return parseSentinels(s);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
        return z.NEVER;
      }
    }),
  /** The primary's name in the Sentinels' configuration (`sentinel monitor <name>`); only with REDIS_SENTINELS. */
  REDIS_SENTINEL_MASTER: z.string().min(1).default('coupon'),
};

export const kafkaEnv = {
  /** Comma-separated Kafka bootstrap brokers. */
  KAFKA_BROKERS: z
    .string()
    .default('127.0.0.1:9092')
    .transform((s) =>
      s
        .split(',')
        .map((b) => b.trim())
        .filter(Boolean),
    ),
  /** Prefix for topic and group names; empty in production, set by tests to share a broker safely. */
  KAFKA_TOPIC_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9._-]*$/)
    .default(''),
  /** Client id prefix reported to the brokers. */
  KAFKA_CLIENT_ID: z.string().default('coupon'),
};

export const databaseEnv = {
  /** MySQL/MariaDB URL: mysql://user:password@host:port/database */
  DATABASE_URL: z.url().default('mysql://coupon:coupon@127.0.0.1:3307/coupon'),
};

/** A token: a secret of 8 characters or more; an empty value (compose's `${X:-}`) is refused, not defaulted. */
export const secret = () =>
  z
    .string()
    .min(
      8,
      'must be a secret of 8 characters or more (scripts/start keeps generated ones in .local/secrets.env)',
    );

export const tokenEnv = {
  /**
   * Shared secret between gateway and issuer (header x-internal-token). The default is a development
   * token: a service listening beyond loopback (HOST) refuses to start with it.
   */
  INTERNAL_TOKEN: secret().default(DEV_TOKENS.INTERNAL_TOKEN),
};

/** "true"/"false"/"1"/"0" → boolean; z.coerce.boolean would read "false" as true. */
export const boolish = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');
