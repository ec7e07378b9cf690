import {
  type AdminClient,
  adminClient,
  type CouponChange,
  type CouponStats,
  type CouponView,
  type CouponWindow,
  type CreateCoupon,
  type SettingsChange,
  type SettingsPatch,
  type SettingsView,
  topicNames,
} from '@coupon/contracts';
import { DbPool } from '@coupon/db';
import { gatewayEnv, type RunningGateway, startGateway } from '@coupon/gateway';
import { issuerEnv, type RunningIssuer, startIssuer } from '@coupon/issuer';
import { createLogger } from '@coupon/kit';
import { persisterEnv, type RunningPersister, startPersister } from '@coupon/persister';
import { Agent } from 'undici';
import { inject } from 'vitest';

/**
 * One client for the load the tests make: up to 256 sockets per origin, the rest queued client-side.
 * Thousands of simultaneous connects from fetch's default agent overflow the listen backlog on a
 * busy 2-core machine (ECONNRESET), which tests the kernel, not the system.
 */
const client = new Agent({ connections: 256, keepAliveTimeout: 10_000 });

export const ADMIN_TOKEN = 'test-admin-token';
export const INTERNAL_TOKEN = 'test-internal-token';

export function infra() {
  return inject('infra');
}

export function topics() {
  return topicNames(infra().KAFKA_TOPIC_PREFIX);
}

/** Environment every service gets in tests: the real infrastructure, port 0 (the gateway's metrics listener too), quiet logs. */
export function baseEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    ...infra(),
    PORT: '0',
    METRICS_PORT: '0',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    MIGRATE_ON_START: 'false',
    INTERNAL_TOKEN,
    ADMIN_TOKEN,
    SHUTDOWN_TIMEOUT_MS: '5000',
    // Exact answers from the issuer (a holder hears ALREADY_ISSUED, every request reaches the gate):
    // tests/integration/controls.test.ts turns sold-out at the edge on where it tests it.
    EDGE_SOLD_OUT_TTL_MS: '0',
    ...extra,
  };
}

export interface SystemOptions {
  persister?: boolean;
  issuerEnv?: Record<string, string>;
  gatewayEnv?: Record<string, string>;
  persisterEnv?: Record<string, string>;
}

export interface System {
  url: string;
  gateway: RunningGateway;
  issuer: RunningIssuer;
  persister?: RunningPersister;
  admin: Admin;
  startPersister(extra?: Record<string, string>): Promise<RunningPersister>;
  stop(): Promise<void>;
}

const log = (name: string) => createLogger(name, process.env.TEST_LOG_LEVEL ?? 'silent');

export function runPersister(extra: Record<string, string> = {}): Promise<RunningPersister> {
  return startPersister(persisterEnv.parse(baseEnv(extra)), log('persister'));
}

/** Starts the three real services in this process on ephemeral ports. */
export async function startSystem(opts: SystemOptions = {}): Promise<System> {
  const issuer = await startIssuer(issuerEnv.parse(baseEnv(opts.issuerEnv)), log('issuer'));
  const gateway = await startGateway(
    gatewayEnv.parse(
      baseEnv({ ISSUER_URL: `http://127.0.0.1:${issuer.port}`, HOST: '127.0.0.1', ...opts.gatewayEnv }),
    ),
    log('gateway'),
  );
  const sys: System = {
    url: gateway.url,
    gateway,
    issuer,
    admin: new Admin(gateway.url),
    async startPersister(extra) {
      sys.persister = await runPersister({ ...opts.persisterEnv, ...extra });
      return sys.persister;
    },
    async stop() {
      await gateway.stop();
      await issuer.stop();
      await sys.persister?.stop();
    },
  };
  if (opts.persister !== false) await sys.startPersister();
  return sys;
}

/** One more gateway in front of `sys`'s issuer, with `extra` on top of the test environment. */
export function extraGateway(sys: System, extra: Record<string, string>): Promise<RunningGateway> {
  return startGateway(
    gatewayEnv.parse(
      baseEnv({ ISSUER_URL: `http://127.0.0.1:${sys.issuer.port}`, HOST: '127.0.0.1', ...extra }),
    ),
    log('gateway'),
  );
}

/** The admin helpers the tests use: contracts' typed admin client, with a test's defaults. */
export class Admin {
  readonly api: AdminClient;

  constructor(url: string) {
    this.api = adminClient({ url, token: ADMIN_TOKEN });
  }

  createCoupon(quantity: number, extra: Partial<CreateCoupon> = {}): Promise<CouponView> {
    return this.api.createCoupon({ quantity, name: 'test', ...extra });
  }

  stats(couponId: number): Promise<CouponStats> {
    return this.api.couponStats({ couponId });
  }

  pause(couponId: number): Promise<CouponChange> {
    return this.api.pauseCoupon({ couponId });
  }

  resume(couponId: number): Promise<CouponChange> {
    return this.api.resumeCoupon({ couponId });
  }

  moveWindow(couponId: number, window: CouponWindow): Promise<CouponChange> {
    return this.api.moveCouponWindow({ couponId }, window);
  }

  settings(): Promise<SettingsView> {
    return this.api.getSettings();
  }

  changeSettings(patch: SettingsPatch): Promise<SettingsChange> {
    return this.api.changeSettings(patch);
  }
}

export interface Answer {
  status: number;
  body: { error?: { code: string; message: string; requestId: string }; issueId?: string; status?: string };
  headers: Headers;
}

export interface IssueOptions {
  /** Sent as `Authorization: Bearer <token>`. */
  token?: string;
  headers?: Record<string, string>;
  /** Another client (e.g. an Agent bound to its own loopback address). */
  dispatcher?: Agent;
}

export async function issue(
  url: string,
  userId: number | string,
  couponId: number | string,
  opts: IssueOptions = {},
): Promise<Answer> {
  const sent = { ...opts.headers, ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}) };
  const res = await (opts.dispatcher ?? client).request({
    origin: url,
    path: `/coupons/${userId}/issue-async?couponId=${couponId}`,
    method: 'POST',
    headers: sent,
  });
  const headers = new Headers();
  for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') headers.set(k, v);
  return { status: res.statusCode, body: (await res.body.json()) as Answer['body'], headers };
}

export function tally(answers: Answer[]): Record<string, number> {
  const t: Record<string, number> = {};
  for (const a of answers) {
    const k = a.status === 202 ? '202' : `${a.status} ${a.body.error?.code ?? ''}`.trim();
    t[k] = (t[k] ?? 0) + 1;
  }
  return t;
}

/** A pool on the test database, for asserting rows directly. */
export function testPool(): DbPool {
  return new DbPool({ url: infra().DATABASE_URL, maximumPoolSize: 4 });
}

/** Distinct user ids per test so tests never collide in Redis or MySQL. */
let seq = 0;
export function userIds(n: number): number[] {
  const base = (Date.now() % 1_000_000_000) * 1_000 + (seq++ % 1_000) * 100_000;
  return Array.from({ length: n }, (_, i) => base + i + 1);
}
