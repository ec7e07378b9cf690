import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { freePort, sleep } from '../support/index.js';

const run = promisify(execFile);
const STACK = fileURLToPath(new URL('../../infra/local/stack', import.meta.url));

/** One line as VictoriaLogs returns it (every field a string; `_time` when it was logged). */
export type LogLine = Record<string, string> & { _msg: string; _time: string; service: string };

/**
 * A private VictoriaLogs started by the stack (`infra/local/stack up victorialogs`, stack.d/
 * victorialogs.sh) with its own STACK_HOME and a free port; the binary is the checkout's
 * (.local/bin, built once by go install).
 */
export class VictoriaLogs {
  readonly home = mkdtempSync(join(tmpdir(), 'coupon-victorialogs-'));

  private constructor(readonly port: number) {}

  static async start(): Promise<VictoriaLogs> {
    const v = new VictoriaLogs(await freePort());
    await v.stack('up');
    return v;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  private async stack(cmd: string): Promise<string> {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      STACK_HOME: this.home,
      VICTORIALOGS_PORT: String(this.port),
    };
    delete env.LOG_SHIP_URL; // set, it would mean "use that one": start nothing
    const { stdout, stderr } = await run('bash', [STACK, cmd, 'victorialogs'], { env, timeout: 600_000 });
    return stdout + stderr;
  }

  /** Runs a LogsQL query (`/select/logsql/query`), newest last. */
  async query(q: string, limit = 1_000): Promise<LogLine[]> {
    const body = new URLSearchParams({ query: q, limit: String(limit) });
    const res = await fetch(`${this.url}/select/logsql/query`, { method: 'POST', body });
    if (!res.ok) throw new Error(`LogsQL ${q}: ${res.status} ${await res.text()}`);
    const text = await res.text();
    return text
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as LogLine)
      .sort((a, b) => a._time.localeCompare(b._time));
  }

  /** Polls the query every 50 ms until it returns at least one line; resolves with them and when. */
  async until(q: string, ms = 30_000): Promise<{ lines: LogLine[]; foundAt: number }> {
    const end = Date.now() + ms;
    for (;;) {
      const lines = await this.query(q);
      if (lines.length > 0) return { lines, foundAt: Date.now() };
      if (Date.now() > end) throw new Error(`no log line for ${q} within ${ms} ms`);
      await sleep(50);
    }
  }

  async stop(): Promise<void> {
    await this.stack('down').catch(() => undefined);
    rmSync(this.home, { recursive: true, force: true });
  }
}
