import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { freePort, sleep } from '../support/index.js';
import { stackHa } from './private-stack.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const ADMIN = join(ROOT, 'infra', 'haproxy', 'admin');

/** One server's counters from HAProxy's `show stat`. */
export interface ServerStat {
  /** UP, DOWN, "UP 1/2" (going down), "DOWN 1/2" (coming up), DRAIN, MAINT. */
  status: string;
  /** Requests (sessions) sent to it. */
  total: number;
  /** Connection errors, response errors, retries and redispatches counted against it. */
  errors: { connect: number; response: number; retries: number; redispatches: number };
}

/**
 * HAProxy as the stack runs it (`infra/local/stack --ha up haproxy`: stack.d/haproxy.sh with
 * infra/haproxy/haproxy.cfg), but with its state under a temporary STACK_HOME and on a free port,
 * in front of the given gateway ports. The shared stack is not touched.
 */
export class PrivateHaproxy {
  readonly home = mkdtempSync(join(tmpdir(), 'coupon-haproxy-'));

  private constructor(
    readonly port: number,
    private readonly gatewayPorts: number[],
  ) {}

  static async start(gatewayPorts: number[]): Promise<PrivateHaproxy> {
    const h = new PrivateHaproxy(await freePort(), gatewayPorts);
    await h.stack('up', 'haproxy');
    return h;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  private env(): NodeJS.ProcessEnv {
    const { LB_URL: _ignored, ...rest } = process.env;
    return {
      ...rest,
      STACK_HOME: this.home,
      HAPROXY_PORT: String(this.port),
      GATEWAY_PORTS: this.gatewayPorts.join(' '),
    };
  }

  private async stack(...args: string[]): Promise<void> {
    await stackHa(
      {
        home: this.home,
        env: { HAPROXY_PORT: String(this.port), GATEWAY_PORTS: this.gatewayPorts.join(' ') },
        unset: ['LB_URL'],
        timeoutMs: 120_000,
        context: () => this.log(),
      },
      ...args,
    );
  }

  /** infra/haproxy/admin with this instance's socket (what scripts/services uses). */
  async admin(...args: string[]): Promise<string> {
    const { stdout } = await run(ADMIN, args, { env: this.env(), timeout: 30_000 });
    return stdout.trim();
  }

  /** One runtime API command straight to the admin socket: cheap enough to poll every 50 ms. */
  command(cmd: string): Promise<string> {
    return new Promise((resolve, reject) => {
      let out = '';
      const s = net.connect(join(this.home, 'run', 'haproxy.sock'));
      s.setTimeout(2_000, () => s.destroy(new Error(`haproxy admin socket: no answer to ${cmd}`)));
      s.on('connect', () => s.write(`${cmd}\n`));
      s.on('data', (d) => {
        out += d;
      });
      s.on('error', reject);
      s.on('close', () => resolve(out.trim()));
    });
  }

  /** Per server (gw1, gw2, ...) of backend `gateways`. */
  async stats(): Promise<Record<string, ServerStat>> {
    const csv = (await this.command('show stat gateways 4 -1')).split('\n').filter(Boolean);
    const head = (csv[0] ?? '').replace(/^# /, '').split(',');
    const col = (row: string[], name: string) => row[head.indexOf(name)] ?? '';
    const num = (row: string[], name: string) => Number(col(row, name) || 0);
    const out: Record<string, ServerStat> = {};
    for (const line of csv.slice(1)) {
      const row = line.split(',');
      out[col(row, 'svname')] = {
        status: col(row, 'status'),
        total: num(row, 'stot'),
        errors: {
          connect: num(row, 'econ'),
          response: num(row, 'eresp'),
          retries: num(row, 'wretr'),
          redispatches: num(row, 'wredis'),
        },
      };
    }
    return out;
  }

  /** Polls `status` of one server until `ok` holds; resolves with the ms it took. */
  async waitStatus(server: string, ok: (status: string) => boolean, timeoutMs = 20_000): Promise<number> {
    const t0 = performance.now();
    for (;;) {
      const s = (await this.stats())[server]?.status ?? '';
      if (ok(s)) return performance.now() - t0;
      if (performance.now() - t0 > timeoutMs) throw new Error(`${server} still ${s} after ${timeoutMs} ms`);
      await sleep(50);
    }
  }

  private finalLog: string | undefined;

  /** The tail of HAProxy's log (kept in memory once stopped: stop() deletes its STACK_HOME). */
  log(lines = 30): string {
    if (this.finalLog !== undefined) return this.finalLog.split('\n').slice(-lines).join('\n');
    try {
      return readFileSync(join(this.home, 'log', 'haproxy.log'), 'utf8')
        .trimEnd()
        .split('\n')
        .slice(-lines)
        .join('\n');
    } catch {
      return '(no haproxy log)';
    }
  }

  async stop(): Promise<void> {
    await this.stack('down', 'haproxy').catch(() => undefined);
    this.finalLog = this.log(500);
    rmSync(this.home, { recursive: true, force: true });
  }
}
