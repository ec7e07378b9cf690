/**
 * What the processes cost while a step runs: the services' peak resident memory, and the CPU time per
 * request of each process (the ticks it used during a step / requests answered). The latter is robust
 * on a shared machine: contention stretches time, not the CPU a request costs.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BASE_URL, HA_RUN, HA_URL, ROOT, SERVICES } from './config.ts';

const PROCS = ['gateway', 'issuer', 'persister', 'redis', 'kafka', 'mariadb'] as const;
const HZ = 100; // Linux USER_HZ
/** The one-node topology's pid files: infra/local/stack's and scripts/services' ($STACK_HOME/run). */
const RUN = join(process.env.STACK_HOME ?? join(ROOT, '.local'), 'run');

/** utime + stime (clock ticks) and VmRSS (kB) of a process, or undefined when it is gone. */
async function readProc(pid: number): Promise<{ cpu: number; rss: number } | undefined> {
  try {
    const [stat, status] = await Promise.all([
      readFile(`/proc/${pid}/stat`, 'utf8'),
      readFile(`/proc/${pid}/status`, 'utf8'),
    ]);
    // Fields after "(comm)": state is field 3, utime 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return {
      cpu: Number(fields[11]) + Number(fields[12]),
      rss: Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0),
    };
  } catch {
    return undefined;
  }
}

/** The pid in <run>/<name>.pid. */
function pidOf(name: string, run = RUN): number | undefined {
  try {
    return Number(readFileSync(join(run, `${name}.pid`), 'utf8').trim()) || undefined;
  } catch {
    return undefined;
  }
}

/** Every process with a pid file in `run`, by name (mariadbd's own copy, galera1.mariadb.pid, left out). */
function pidsIn(run: string): Record<string, number> {
  const out: Record<string, number> = {};
  let files: string[] = [];
  try {
    files = readdirSync(run);
  } catch {}
  for (const f of files) {
    const name = /^([a-z]+-?\d*)\.pid$/.exec(f)?.[1];
    const pid = name && pidOf(name, run);
    if (name && pid) out[name] = pid;
  }
  return out;
}

/** A process's group across topologies: gateway-2 → gateway, redis3 and sentinel1 → redis, galera2 and dbproxy → mariadb. */
export function groupOf(name: string): string {
  const kind = name.replace(/-?\d+$/, '');
  if (kind === 'sentinel') return 'redis';
  return kind === 'galera' || kind === 'dbproxy' ? 'mariadb' : kind;
}

/** What a step runs against: the public URL and the CPU ticks its processes have used so far. */
export interface Target {
  url: string;
  cpu(): Promise<Map<string, number>>;
}
export const ONE_NODE: Target = { url: BASE_URL, cpu: () => cpuSnapshot() };
/** The replicated topology (scripts/start --ha): every process with a pid file in its run/. */
export const REPLICATED: Target = { url: HA_URL, cpu: () => cpuSnapshot(pidsIn(HA_RUN), false) };

/** Samples the services' RSS every 500 ms between start() and stop(); peak in MB. */
export class RssWatch {
  readonly peak = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  start(): void {
    this.timer = setInterval(() => void this.sample(), 500);
  }
  stop(): void {
    clearInterval(this.timer);
  }
  private async sample(): Promise<void> {
    for (const s of SERVICES) {
      const pid = pidOf(s);
      const p = pid ? await readProc(pid) : undefined;
      if (p) this.peak.set(s, Math.max(this.peak.get(s) ?? 0, p.rss / 1024));
    }
  }
}

/** CPU ticks used so far by the one-node stack's processes (unless `stack` is false) and any extra named pids. */
export async function cpuSnapshot(
  extra: Record<string, number> = {},
  stack = true,
): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const pids: [string, number | undefined][] = [
    ...(stack ? PROCS.map((n): [string, number | undefined] => [n, pidOf(n)]) : []),
    ...Object.entries(extra),
  ];
  for (const [name, pid] of pids) {
    const p = pid ? await readProc(pid) : undefined;
    if (p) out.set(name, p.cpu);
  }
  return out;
}

/** Milliseconds of CPU per request, per process. */
export function cpuPerRequest(
  before: Map<string, number>,
  after: Map<string, number>,
  requests: number,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, t1] of after) {
    const t0 = before.get(name);
    if (t0 !== undefined && t1 >= t0 && requests > 0) out[name] = (((t1 - t0) / HZ) * 1000) / requests;
  }
  return out;
}
