/**
 * Runs wrk with a script of loadtests/wrk/ against a loopback URL: issue.lua (its args: coupon id,
 * first user) unless `script` names another (issue-auth.lua: coupon id, tokens file).
 */
import { join } from 'node:path';
import { parseWrk, type WrkResult } from '../wrk.ts';
import { CONNECTIONS, DRY, loopbackOnly, plan, ROOT, run } from './config.ts';

export async function wrk(
  baseUrl: string,
  seconds: number,
  scriptArgs: string[] = [],
  script = 'issue.lua',
): Promise<WrkResult> {
  loopbackOnly(baseUrl);
  const args = [
    '-t1',
    `-c${CONNECTIONS}`,
    `-d${seconds}s`,
    '--latency',
    '-s',
    join(ROOT, 'loadtests/wrk', script),
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
