import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, sleep } from '../support/index.js';
import { stackHa } from './private-stack.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const JARS = join(ROOT, '.local/kafka/lib');
/** Broker pids of every cluster of this test process, killed if it dies first (they run detached). */
const clusters = new Set<PrivateKafkaCluster>();
process.once('exit', () => {
  for (const c of clusters) for (const n of PrivateKafkaCluster.NODES) c.signal(n, 'SIGKILL');
});

/**
 * The ha profile's three Kafka brokers (infra/local/stack.d/kafka-ha.sh) in a private STACK_HOME on
 * free ports: the same implementation as `infra/local/stack --ha up`, so the test exercises the
 * topology a user starts. The jars are the stack's (.local/kafka/lib, linked, never fetched here).
 * Clients see the brokers directly (no proxy): a broker's death is what the fault is about.
 */
export class PrivateKafkaCluster {
  static readonly NODES = [1, 2, 3] as const;
  readonly dir = mkdtempSync(join(tmpdir(), 'coupon-kafka-ha-'));
  /** Seconds `stack --ha up` took for the three nodes (format, start, quorum, topics). */
  startS = 0;

  private constructor(private readonly ports: ReadonlyMap<number, { client: number; controller: number }>) {
    mkdirSync(join(this.dir, 'kafka'), { recursive: true });
    symlinkSync(JARS, join(this.dir, 'kafka', 'lib'));
  }

  /** The Kafka jars are there (infra/local/stack provisions them). In CI their absence is a failure, not a skip. */
  static available(): boolean {
    const ok = existsSync(join(JARS, '.stamp'));
    if (!ok && process.env.CI)
      throw new Error('the Kafka jars are missing: infra/local/stack up kafka provisions them');
    return ok;
  }

  static async start(): Promise<PrivateKafkaCluster> {
    const ports = new Map<number, { client: number; controller: number }>();
    for (const n of PrivateKafkaCluster.NODES)
      ports.set(n, { client: await freePort(), controller: await freePort() });
    const c = new PrivateKafkaCluster(ports);
    clusters.add(c);
    const t0 = Date.now();
    try {
      await c.stack('up', ...PrivateKafkaCluster.NODES.map((n) => `kafka${n}`));
    } catch (err) {
      // The brokers run detached (setsid): a failed `up` must not leave them behind (seen: three).
      await c.stop().catch(() => undefined);
      throw err;
    }
    c.startS = (Date.now() - t0) / 1_000;
    return c;
  }

  /** KAFKA_BROKERS for the services: the three client addresses. */
  get brokers(): string {
    return PrivateKafkaCluster.NODES.map((n) => `127.0.0.1:${this.ports.get(n)?.client}`).join(',');
  }

  /** `infra/local/stack --ha <args>` on this cluster's STACK_HOME and ports. */
  async stack(...args: string[]): Promise<string> {
    const env: Record<string, string> = {};
    for (const [n, p] of this.ports) {
      env[`KAFKA${n}_PORT`] = String(p.client);
      env[`KAFKA${n}_CONTROLLER_PORT`] = String(p.controller);
    }
    // KAFKA_BROKERS set would mean "an external Kafka: start nothing"
    const s = {
      home: this.dir,
      env,
      unset: ['KAFKA_BROKERS'],
      timeoutMs: 300_000,
      context: () => this.tail(1),
    };
    return stackHa(s, ...args);
  }

  pid(node: number): number | undefined {
    try {
      const pid = Number(readFileSync(join(this.dir, 'run', `kafka${node}.pid`), 'utf8'));
      return Number.isInteger(pid) && pid > 0 ? pid : undefined;
    } catch {
      return undefined;
    }
  }

  /** Sends a signal to a node's broker; false when it was not running. */
  signal(node: number, sig: NodeJS.Signals): boolean {
    const pid = this.pid(node);
    if (pid === undefined) return false;
    try {
      process.kill(pid, sig);
      return true;
    } catch {
      return false;
    }
  }

  /** kill -9 of one broker, resolved once the process is gone (or a zombie: its sockets are closed). */
  async kill(node: number): Promise<void> {
    const pid = this.pid(node);
    if (pid === undefined || !this.signal(node, 'SIGKILL')) throw new Error(`kafka${node} is not running`);
    const gone = () => {
      try {
        return /^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
      } catch {
        return true;
      }
    };
    while (!gone()) await sleep(50);
  }

  /** Starts one node again on its data (`stack --ha up kafkaN`: waits for "Kafka Server started"). */
  async restart(node: number): Promise<void> {
    await this.stack('up', `kafka${node}`);
  }

  tail(node: number, lines = 30): string {
    try {
      const log = readFileSync(join(this.dir, 'log', `kafka${node}.log`), 'utf8');
      return log.trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }

  async stop(): Promise<void> {
    try {
      await this.stack('down', ...PrivateKafkaCluster.NODES.map((n) => `kafka${n}`));
    } finally {
      for (const n of PrivateKafkaCluster.NODES) this.signal(n, 'SIGKILL');
      clusters.delete(this);
      rmSync(this.dir, { recursive: true, force: true });
    }
  }
}
