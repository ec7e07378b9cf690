import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, sleep } from '../support/index.js';
import { track } from './processes.js';

/** One PING over a raw socket: true on +PONG (a Redis still loading its AOF answers -LOADING). */
export function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(1_000, () => done(false));
    s.on('error', () => done(false));
    s.on('data', (d) => done(d.toString().startsWith('+PONG')));
    s.on('connect', () => s.write('PING\r\n'));
  });
}

/**
 * A Redis of the test's own, configured like production (appendonly, noeviction), that the test
 * may kill -9, restart from the same directory (its AOF), or wipe: the shared stack's Redis is
 * never touched.
 */
export class PrivateRedis {
  readonly dir = mkdtempSync(join(tmpdir(), 'coupon-redis-'));
  private proc: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();

  private constructor(
    readonly port: number,
    private readonly extraArgs: string[],
  ) {}

  static async start(extraArgs: string[] = []): Promise<PrivateRedis> {
    return new PrivateRedis(await freePort(), extraArgs).start();
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<this> {
    const args = [
      '--bind',
      '127.0.0.1',
      '--port',
      String(this.port),
      '--dir',
      this.dir,
      '--appendonly',
      'yes',
    ];
    args.push('--maxmemory-policy', 'noeviction', '--save', '', '--daemonize', 'no', ...this.extraArgs);
    const proc = track(spawn('redis-server', args, { stdio: 'ignore' }));
    this.proc = proc;
    this.exited = new Promise((r) => proc.once('exit', () => r()));
    for (let i = 0; i < 100; i++) {
      if (await ping(this.port)) return this;
      if (proc.exitCode !== null) break;
      await sleep(100);
    }
    throw new Error(`private redis on :${this.port} did not start (dir ${this.dir})`);
  }

  /** kill -9: no shutdown, no final fsync. What was acknowledged must be in the AOF already. */
  async kill(): Promise<void> {
    this.proc?.kill('SIGKILL');
    await this.exited;
  }

  /** SIGSTOP: the process stays, its sockets stay open, it answers nothing (a hung replica). */
  pause(): void {
    this.proc?.kill('SIGSTOP');
  }

  /** SIGCONT after pause. */
  resume(): void {
    this.proc?.kill('SIGCONT');
  }

  /** Its data is gone (a new machine, a lost volume): the next start is empty. */
  wipe(): void {
    rmSync(this.dir, { recursive: true, force: true });
    mkdirSync(this.dir);
  }

  async stop(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
