import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, sleep, waitReady } from '../support/index.js';

/**
 * The BUILT services as child processes (`node services/<svc>/dist/main.js`), so a fault can be a
 * real `kill -9`: no shutdown hook runs, the producer is not flushed, the consumer does not leave
 * its group. Each process keeps its port across restarts (peers keep their URLs) and appends its
 * output to one log file, whose tail goes into failure messages.
 */

export type ServiceName = 'gateway' | 'issuer' | 'persister';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Every child of this test process, killed if the test process dies first. */
const alive = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of alive) c.kill('SIGKILL');
});

/** Registers a child to be killed when the test process exits (a failed test must not leak it). */
export function track(child: ChildProcess): ChildProcess {
  alive.add(child);
  child.once('exit', () => alive.delete(child));
  return child;
}

export class ServiceProcess {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private expectExit = false;
  /** Exits we did not cause (crash, bad env): a test should fail on them. */
  readonly crashes: string[] = [];
  starts = 0;

  constructor(
    readonly name: string,
    readonly service: ServiceName,
    readonly port: number,
    private env: Record<string, string>,
    readonly logFile: string,
    /** The gateway's metrics listener (METRICS_PORT); the other services serve /metrics on `port`. */
    readonly metricsPort = port,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Where this process serves /metrics (`${metricsUrl}/metrics`). */
  get metricsUrl(): string {
    return `http://127.0.0.1:${this.metricsPort}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Spawns the process and waits until GET /ready answers 200 (or throws with the log's tail). */
  async start(extraEnv: Record<string, string> = {}, readyMs = 90_000): Promise<this> {
    if (this.running) throw new Error(`${this.name} is already running`);
    this.env = { ...this.env, ...extraEnv };
    const fd = openSync(this.logFile, 'a');
    writeSync(
      fd,
      `\n===== ${new Date().toISOString()} start #${++this.starts} of ${this.name} :${this.port} =====\n`,
    );
    const child = spawn(process.execPath, [join(ROOT, 'services', this.service, 'dist', 'main.js')], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '/tmp',
        ...this.env,
        PORT: String(this.port),
        METRICS_PORT: String(this.metricsPort),
      },
      stdio: ['ignore', fd, fd],
    });
    closeSync(fd);
    this.child = child;
    this.expectExit = false;
    track(child);
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        if (!this.expectExit) this.crashes.push(`${this.name} exited (code ${code}, signal ${signal})`);
        resolve();
      }),
    );
    await waitReady(
      this.name,
      this.url,
      { gone: () => (this.running ? undefined : 'exited'), tail: () => this.tail() },
      readyMs,
    );
    return this;
  }

  /** Sends the signal and waits for the exit. SIGKILL by default: the crash the fault suite is about. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (!this.running) return;
    this.expectExit = true;
    this.child?.kill(signal);
    await this.exited;
  }

  /** Graceful stop (SIGTERM, its shutdown steps), SIGKILL after `graceMs`. */
  async stop(graceMs = 10_000): Promise<void> {
    if (!this.running) return;
    this.expectExit = true;
    this.child?.kill('SIGTERM');
    const timer = setTimeout(() => this.child?.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  /** kill -9, then start again on the same port with the same environment (plus `extraEnv`). */
  async restart(extraEnv: Record<string, string> = {}, pauseMs = 0): Promise<this> {
    await this.kill('SIGKILL');
    if (pauseMs > 0) await sleep(pauseMs);
    return this.start(extraEnv);
  }

  tail(lines = 40): string {
    try {
      return readFileSync(this.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }
}

/** A set of processes of one test, their logs in one temporary directory. */
export class ProcessGroup {
  readonly logDir = mkdtempSync(join(tmpdir(), 'coupon-faults-'));
  readonly all: ServiceProcess[] = [];

  /** Creates (does not start) a process on a free port. `env` is the whole environment it sees. */
  async create(name: string, service: ServiceName, env: Record<string, string>): Promise<ServiceProcess> {
    const port = await freePort();
    const metricsPort = service === 'gateway' ? await freePort() : port;
    const p = new ServiceProcess(name, service, port, env, join(this.logDir, `${name}.log`), metricsPort);
    this.all.push(p);
    return p;
  }

  /** Deletes the logs (kept when FAULTS_KEEP_LOGS=1). */
  removeLogs(): void {
    if (process.env.FAULTS_KEEP_LOGS !== '1') rmSync(this.logDir, { recursive: true, force: true });
  }

  crashes(): string[] {
    return this.all.flatMap((p) => p.crashes);
  }

  /** The tail of every log, for a failure message. */
  report(lines = 25): string {
    return this.all.map((p) => `--- ${p.name} (${p.logFile})\n${p.tail(lines)}`).join('\n');
  }

  async stopAll(): Promise<void> {
    // Edge first, so nothing new reaches the back end while it drains.
    const order: ServiceName[] = ['gateway', 'issuer', 'persister'];
    for (const s of order) await Promise.all(this.all.filter((p) => p.service === s).map((p) => p.stop()));
  }
}
