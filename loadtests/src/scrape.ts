/**
 * Scrapes every service's /metrics and samples the CPU time and resident memory of the processes under
 * test (services, Redis, MariaDB, Kafka, k6) once per interval, appending JSON lines to --out until
 * SIGTERM/SIGINT or --max-seconds. Lines:
 *   {"k":"m","t":ms,"s":service,"ok":bool,"ms":scrapeMs,"status":http,"text":exposition}
 *   {"k":"p","t":ms,"n":name,"pid":n,"cpu":ticks,"rss":kB}
 *   {"k":"c","t":ms,"busy":ticks,"total":ticks,"hz":ticksPerSecond,"cores":n}
 *
 *   node src/scrape.ts --out metrics.jsonl [--interval 1000] [--max-seconds 3600]
 *        [--target name=url]... [--proc name=pidfile]... [--node url]
 * Without --target: the gateway's metrics listener on 127.0.0.1:9464 (GATEWAY_METRICS_PORT; its
 * public port does not serve /metrics), issuer and persister on 127.0.0.1:3001-3002 (ISSUER_PORT,
 * PERSISTER_PORT). Without --proc: the pid files of scripts/services and infra/local/stack under
 * .local/run. --node adds the node exporter's /metrics as target "node" (the report's host rows).
 */
import { execFileSync } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export interface ProcSample {
  cpu: number;
  rss: number;
}

/** utime + stime (clock ticks) and VmRSS (kB) of a process, or undefined when it is gone. */
export async function readProc(pid: number): Promise<ProcSample | undefined> {
  try {
    const [stat, status] = await Promise.all([
      readFile(`/proc/${pid}/stat`, 'utf8'),
      readFile(`/proc/${pid}/status`, 'utf8'),
    ]);
    // Fields after "(comm)": state is field 3, utime 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cpu = Number(fields[11]) + Number(fields[12]);
    const rss = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
    return { cpu, rss };
  } catch {
    return undefined;
  }
}

/** Busy and total ticks of all cores from /proc/stat. */
async function readCpu(): Promise<{ busy: number; total: number }> {
  const first = (await readFile('/proc/stat', 'utf8')).split('\n')[0] ?? '';
  const v = first.trim().split(/\s+/).slice(1).map(Number);
  const total = v.reduce((a, b) => a + b, 0);
  const idle = (v[3] ?? 0) + (v[4] ?? 0);
  return { busy: total - idle, total };
}

function pairs(list: string[] | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const p of list ?? []) {
    const eq = p.indexOf('=');
    if (eq > 0) out.set(p.slice(0, eq), p.slice(eq + 1));
  }
  return out;
}

interface Config {
  out: string;
  interval: number;
  maxSeconds: number;
  /** Service name → its /metrics URL. */
  targets: Map<string, string>;
  /** Process name → its pid file. */
  procs: Map<string, string>;
}

function config(): Config {
  const { values } = parseArgs({
    options: {
      out: { type: 'string' },
      interval: { type: 'string', default: '1000' },
      'max-seconds': { type: 'string', default: '3600' },
      target: { type: 'string', multiple: true },
      proc: { type: 'string', multiple: true },
      node: { type: 'string' },
    },
  });
  if (!values.out) throw new Error('--out FILE is required');
  const targets = pairs(values.target);
  if (targets.size === 0) {
    targets.set('gateway', `http://127.0.0.1:${process.env.GATEWAY_METRICS_PORT ?? 9464}/metrics`);
    targets.set('issuer', `http://127.0.0.1:${process.env.ISSUER_PORT ?? 3001}/metrics`);
    targets.set('persister', `http://127.0.0.1:${process.env.PERSISTER_PORT ?? 3002}/metrics`);
  }
  if (values.node) targets.set('node', values.node);
  const procs = pairs(values.proc);
  if (procs.size === 0) {
    for (const n of ['gateway', 'issuer', 'persister', 'redis', 'mariadb', 'kafka'])
      procs.set(n, `${ROOT}/.local/run/${n}.pid`);
  }
  return {
    out: values.out,
    interval: Number(values.interval),
    maxSeconds: Number(values['max-seconds']),
    targets,
    procs,
  };
}

function clockTicks(): number {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  } catch {
    return 100; // Linux's USER_HZ is 100 nearly everywhere.
  }
}

/** One sampling round: the machine's CPU, every process, every /metrics; skipped while one runs. */
function sampler(c: Config, write: (o: object) => void): () => Promise<void> {
  const hz = clockTicks();
  const cores = cpus().length;
  const scrape = async (service: string, url: string, t: number) => {
    const t0 = performance.now();
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(Math.max(200, c.interval - 100)) });
      const text = await res.text();
      write({
        k: 'm',
        t,
        s: service,
        ok: res.ok,
        status: res.status,
        ms: performance.now() - t0,
        text: res.ok ? text : '',
      });
    } catch (err) {
      write({ k: 'm', t, s: service, ok: false, ms: performance.now() - t0, err: String(err) });
    }
  };
  const sampleProc = async (name: string, pidfile: string, t: number) => {
    let pid: number;
    try {
      pid = Number((await readFile(pidfile, 'utf8')).trim());
    } catch {
      return;
    }
    if (!Number.isInteger(pid) || pid <= 0) return;
    const p = await readProc(pid);
    if (p) write({ k: 'p', t, n: name, pid, cpu: p.cpu, rss: p.rss });
  };
  let busy = false;
  return async () => {
    if (busy) return;
    busy = true;
    const t = Date.now();
    try {
      const cpu = await readCpu();
      write({ k: 'c', t, busy: cpu.busy, total: cpu.total, hz, cores });
      await Promise.all([
        ...[...c.procs].map(([n, f]) => sampleProc(n, f, t)),
        ...[...c.targets].map(([s, u]) => scrape(s, u, t)),
      ]);
    } finally {
      busy = false;
    }
  };
}

async function main(): Promise<void> {
  const c = config();
  const out = createWriteStream(c.out, { flags: 'a' });
  const tick = sampler(c, (o) => out.write(`${JSON.stringify(o)}\n`));
  const timer = setInterval(() => void tick(), c.interval);
  void tick();
  const stop = () => {
    clearInterval(timer);
    out.end(() => process.exit(0));
  };
  setTimeout(stop, c.maxSeconds * 1000).unref();
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

if (import.meta.main) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
