/**
 * What the processes cost while a step runs: the services' peak resident memory, and the CPU time per
 * request of each process (the ticks it used during a step / requests answered). The latter is robust
 * on a shared machine: contention stretches time, not the CPU a request costs.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readProc } from '../scrape.ts';
import { ROOT, SERVICES } from './config.ts';

const PROCS = ['gateway', 'issuer', 'persister', 'redis', 'kafka', 'mariadb'] as const;
const HZ = 100; // Linux USER_HZ

/** The pid in .local/run/<name>.pid (scripts/services, infra/local/stack). */
function pidOf(name: string): number | undefined {
  try {
    return Number(readFileSync(join(ROOT, '.local/run', `${name}.pid`), 'utf8').trim()) || undefined;
  } catch {
    return undefined;
  }
}

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

/** CPU ticks used so far by the stack's processes and any extra named pids. */
export async function cpuSnapshot(extra: Record<string, number> = {}): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const pids: [string, number | undefined][] = [
    ...PROCS.map((n): [string, number | undefined] => [n, pidOf(n)]),
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
