/** The bench's settings (environment), its loopback guard, and the helpers every step uses. */
import { execFile } from 'node:child_process';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '../../..');
export const BASE_URL = process.env.BASE_URL ?? 'http://127.0.0.1:3000';
export const ADMIN_TOKEN = process.env.ADMIN_TOKEN ?? 'dev-admin-token';
export const KAFKA_BROKERS = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';
export const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
export const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64);
export const DRAIN_EVENTS = Number(process.env.BENCH_DRAIN_EVENTS ?? 200_000);
export const SKIP_SEED = process.env.BENCH_SKIP_SEED === '1';
export const SERVICES = ['gateway', 'issuer', 'persister'] as const;
/** --dry-run: print what each step would call (wrk, admin API, processes) instead of calling it. */
export const DRY = process.argv.includes('--dry-run');
/** --ha: the one-node topology beside the replicated one (bench/ha.ts); loadtests/bench --ha starts that. */
export const HA = process.argv.includes('--ha');
/** The replicated topology's HAProxy, and its pid files (its STACK_HOME's run/). */
export const HA_URL = process.env.BENCH_HA_URL ?? 'http://127.0.0.1:3200';
export const HA_RUN = process.env.BENCH_HA_RUN ?? join(ROOT, '.local/ha/run');

export function loopbackOnly(url: string): void {
  const host = new URL(url.includes('://') ? url : `tcp://${url}`).hostname;
  if (!/^(127\.\d+\.\d+\.\d+|localhost|\[::1\])$/.test(host))
    throw new Error(`bench targets loopback only, not ${url}`);
}

export { setTimeout as sleep } from 'node:timers/promises';
export const log = (s: string) => console.error(`[bench] ${s}`);
/** One line of the dry run's plan. */
export const plan = (s: string) => console.error(`[plan] ${s}`);

/** Runs a command from the repository's root; its stdout and stderr together. */
export function run(
  cmd: string,
  args: string[],
  timeoutMs: number,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string> {
  return new Promise((ok, fail) => {
    execFile(
      cmd,
      args,
      { timeout: timeoutMs, env, maxBuffer: 64 * 1024 * 1024, cwd: ROOT },
      (err, stdout, stderr) => {
        if (err && (err as { killed?: boolean }).killed)
          fail(new Error(`${cmd} timed out after ${timeoutMs} ms`));
        else ok(`${stdout}${stderr}`);
      },
    );
  });
}
