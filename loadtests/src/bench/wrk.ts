/** Runs wrk with loadtests/wrk/issue.lua against a loopback URL (the script's args: coupon id, first user). */
import { join } from 'node:path';
import { parseWrk, type WrkResult } from '../wrk.ts';
import { CONNECTIONS, DRY, loopbackOnly, plan, ROOT, run } from './config.ts';

export async function wrk(baseUrl: string, seconds: number, scriptArgs: string[] = []): Promise<WrkResult> {
  loopbackOnly(baseUrl);
  const args = [
    '-t1',
    `-c${CONNECTIONS}`,
    `-d${seconds}s`,
    '--latency',
    '-s',
    join(ROOT, 'loadtests/wrk/issue.lua'),
    baseUrl,
  ];
  if (scriptArgs.length > 0) args.push('--', ...scriptArgs);
  if (DRY) {
    plan(`wrk ${args.join(' ')}`);
    return { rps: 1000, requests: 1000 * seconds, non2xx: 0, errors: 0, statuses: {}, p50: 1, p99: 10 };
  }
  return parseWrk(await run('wrk', args, (seconds + 30) * 1000));
}

/** A wrk step's figures and the CPU one request cost in each process (ms). */
export type Step = WrkResult & { cpuMs: Record<string, number> };
