import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { FaultProxy } from '../integration/proxy.js';
import { freePort, sleep } from '../support/index.js';
import { track } from './processes.js';

const KAFKA_HOME = fileURLToPath(new URL('../../.local/kafka', import.meta.url));
/** The stack's broker settings and logging (infra/config/kafka), shared with the compose files. */
const KAFKA_CONFIG = fileURLToPath(new URL('../../infra/config/kafka', import.meta.url));

/** Kafka's Uuid format; one starting with '-' would be read as an option by StorageTool (seen). */
function clusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

/**
 * A single-node KRaft broker of the test's own (jars of infra/local/stack in .local/kafka/lib),
 * which advertises the address of a FaultProxy in front of it: every client connection, bootstrap
 * and metadata-directed alike, goes through the proxy, so `proxy.refuse()` is a broker outage as
 * clients see it, and `kill()` + `start()` is a real broker restart. ~20 s to start, 512 MB.
 */
export class PrivateKafka {
  readonly dir = mkdtempSync(join(tmpdir(), 'coupon-kafka-'));
  private proc: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();

  private constructor(
    readonly proxy: FaultProxy,
    private readonly port: number,
    private readonly controllerPort: number,
  ) {}

  /** The Kafka jars are there (infra/local/stack provisions them). In CI their absence is a failure, not a skip. */
  static available(): boolean {
    const ok = existsSync(join(KAFKA_HOME, 'lib'));
    if (!ok && process.env.CI)
      throw new Error('the Kafka jars are missing: infra/local/stack up kafka provisions them');
    return ok;
  }

  static async start(): Promise<PrivateKafka> {
    const port = await freePort();
    const k = new PrivateKafka(await new FaultProxy(port).start(), port, await freePort());
    k.configure();
    await promisify(execFile)(
      'java',
      [
        '-XX:TieredStopAtLevel=1',
        '-XX:+UseSerialGC',
        '-cp',
        `${KAFKA_HOME}/lib/*`,
        'kafka.tools.StorageTool',
      ].concat(['format', '-t', clusterId(), '-c', k.props]),
      { timeout: 60_000 },
    );
    return k.start();
  }

  /** What clients use: the proxy. */
  get brokers(): string {
    return `127.0.0.1:${this.proxy.port}`;
  }

  private get props(): string {
    return join(this.dir, 'server.properties');
  }

  private get log(): string {
    return join(this.dir, 'broker.log');
  }

  /** The single broker's settings, as the stack writes them, then this broker's identity: it advertises the proxy. */
  private configure(): void {
    const settings = ['broker.properties', 'single.properties'].map((f) =>
      readFileSync(join(KAFKA_CONFIG, f), 'utf8'),
    );
    const identity = [
      'node.id=1',
      `controller.quorum.voters=1@127.0.0.1:${this.controllerPort}`,
      `listeners=PLAINTEXT://127.0.0.1:${this.port},CONTROLLER://127.0.0.1:${this.controllerPort}`,
      `advertised.listeners=PLAINTEXT://127.0.0.1:${this.proxy.port}`,
      'inter.broker.listener.name=PLAINTEXT',
      'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
      `log.dirs=${join(this.dir, 'data')}`,
    ];
    writeFileSync(this.props, `${settings.join('')}${identity.join('\n')}\n`);
  }

  /** Starts the broker (on its existing data) and waits for "Kafka Server started". */
  async start(): Promise<this> {
    const offset = existsSync(this.log) ? readFileSync(this.log).length : 0;
    const fd = openSync(this.log, 'a');
    const proc = track(
      spawn(
        'java',
        ['-Xms256m', '-Xmx512m', '-XX:+UseG1GC', '-Djava.awt.headless=true']
          .concat([`-Dlog4j2.configurationFile=${KAFKA_CONFIG}/log4j2.yaml`, '-cp', `${KAFKA_HOME}/lib/*`])
          .concat(['kafka.Kafka', this.props]),
        { stdio: ['ignore', fd, fd] },
      ),
    );
    closeSync(fd);
    this.proc = proc;
    this.exited = new Promise((r) => proc.once('exit', () => r()));
    for (let i = 0; i < 600; i++) {
      if (readFileSync(this.log).subarray(offset).includes('Kafka Server started')) return this;
      if (proc.exitCode !== null) break;
      await sleep(200);
    }
    throw new Error(`private kafka did not start:\n${this.tail()}`);
  }

  /** kill -9 of the broker process (the proxy keeps listening: clients see connections refused upstream). */
  async kill(): Promise<void> {
    this.proc?.kill('SIGKILL');
    await this.exited;
  }

  tail(lines = 30): string {
    return readFileSync(this.log, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  }

  async stop(): Promise<void> {
    await this.kill();
    await this.proxy.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
