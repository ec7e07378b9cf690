import { producerHorizonMs, producerTiming } from '@coupon/kit';
import { ADMIN_TOKEN, Admin, INTERNAL_TOKEN, infra } from '../integration/harness.js';
import { FaultProxy } from '../integration/proxy.js';
import { ProcessGroup, type ServiceProcess } from './processes.js';

/** Addresses of the dependencies one topology uses (the shared stack unless a test brings its own). */
export interface Deps {
  REDIS_URL: string;
  /** Set by a test with a private Sentinel-watched Redis (RedisHa): the services find the primary there. */
  REDIS_SENTINELS?: string;
  REDIS_SENTINEL_MASTER?: string;
  DATABASE_URL: string;
  KAFKA_BROKERS: string;
  KAFKA_TOPIC_PREFIX: string;
}

/**
 * The automatic reconcile's grace in the fault topologies: the issuer's producer horizon with its
 * default delivery timeout (@coupon/kit, what the heal waits too) plus a margin for a busy machine.
 */
export const RECONCILE_GRACE_MS = producerHorizonMs(producerTiming()) + 3_000;

/** Test defaults: short budgets so faults show within seconds, quiet enough logs for 2 cores. */
const DEFAULTS: Record<'gateway' | 'issuer' | 'persister', Record<string, string>> = {
  gateway: {
    RATE_LIMIT_PER_SEC: '100000',
    RATE_LIMIT_BURST: '100000',
    BREAKER_VOLUME_THRESHOLD: '10',
    BREAKER_RESET_MS: '1000',
  },
  // The automatic reconcile on a short cycle, so ambiguous admissions settle within the fault
  // runner's window (run.ts AMBIGUOUS_WINDOW_MS). Its grace must outlast the producer's real horizon
  // (a send kafkajs may still retry after its callers were answered), or it republishes an event
  // that then lands too: RECONCILE_GRACE below is that horizon plus a margin.
  issuer: {
    RECONCILE_INTERVAL_MS: '1000',
    RECONCILE_GRACE_MS: String(RECONCILE_GRACE_MS),
  },
  persister: { RETRY_MAX_BACKOFF_MS: '1000' },
};

/**
 * The processes, proxies and dependency addresses of one fault scenario. Each topology has its own
 * topic prefix (its own topics and consumer group) on top of the run's, so a scenario never reads
 * another's events and its persisters start from an empty group.
 */
export class Topology {
  readonly procs = new ProcessGroup();
  readonly proxies: FaultProxy[] = [];
  readonly deps: Deps;
  /** Coupons created for this topology's run. */
  readonly coupons: number[] = [];

  constructor(name: string, overrides: Partial<Deps> = {}) {
    const i = infra();
    const slug = name
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-|-$/g, '')
      .slice(0, 40);
    // A database of the test's own numbers coupons from 1 again, while the shared test Redis keeps
    // other runs' gates (and the reconcile's active set) under those ids: it needs a Redis of its own.
    if (overrides.DATABASE_URL && overrides.DATABASE_URL !== i.DATABASE_URL && !overrides.REDIS_URL)
      throw new Error(
        `${name}: a private DATABASE_URL needs a private REDIS_URL (gate keys are named by coupon id)`,
      );
    this.deps = { ...i, KAFKA_TOPIC_PREFIX: `${i.KAFKA_TOPIC_PREFIX}${slug}.`, ...overrides };
  }

  env(extra: Record<string, string> = {}): Record<string, string> {
    const deps = Object.entries(this.deps).filter((e): e is [string, string] => e[1] !== undefined);
    return {
      ...Object.fromEntries(deps),
      HOST: '127.0.0.1',
      LOG_LEVEL: process.env.FAULTS_LOG_LEVEL ?? 'info',
      MIGRATE_ON_START: 'false',
      INTERNAL_TOKEN,
      ADMIN_TOKEN,
      SHUTDOWN_TIMEOUT_MS: '5000',
      KAFKAJS_NO_PARTITIONER_WARNING: '1',
      ...extra,
    };
  }

  /** Creates and starts one service process (its readiness awaited). */
  async start(
    name: string,
    service: 'gateway' | 'issuer' | 'persister',
    env: Record<string, string> = {},
  ): Promise<ServiceProcess> {
    const p = await this.procs.create(name, service, this.env({ ...DEFAULTS[service], ...env }));
    return p.start();
  }

  issuer(name = 'issuer', env: Record<string, string> = {}): Promise<ServiceProcess> {
    return this.start(name, 'issuer', env);
  }

  persister(name = 'persister', env: Record<string, string> = {}): Promise<ServiceProcess> {
    return this.start(name, 'persister', env);
  }

  gateway(name: string, issuerUrl: string, env: Record<string, string> = {}): Promise<ServiceProcess> {
    return this.start(name, 'gateway', { ISSUER_URL: issuerUrl, ...env });
  }

  /** A fault proxy in front of 127.0.0.1:`port`, closed with the topology. */
  async proxy(port: number): Promise<FaultProxy> {
    const p = await new FaultProxy(port).start();
    this.proxies.push(p);
    return p;
  }

  /** DATABASE_URL with its port replaced (to go through a proxy). */
  databaseVia(port: number): string {
    const u = new URL(this.deps.DATABASE_URL);
    u.port = String(port);
    return u.toString();
  }

  databasePort(): number {
    return Number(new URL(this.deps.DATABASE_URL).port || 3306);
  }

  admin(gateway: ServiceProcess): Admin {
    return new Admin(gateway.url);
  }

  async close(): Promise<void> {
    await this.procs.stopAll();
    await Promise.all(this.proxies.map((p) => p.stop()));
  }
}
