/**
 * Benchmarks, measured in one run on this machine, against 127.0.0.1 only, bounded in time:
 *   1. a bare node:http server (src/hello.ts) under wrk: the ceiling of one Node process here;
 *   2. the accepted path end to end under the same wrk load (a new user on every request, ample stock);
 *   3. the sold-out path (quantity exhausted, every request a new user);
 *   4. persister drain rate: N events produced straight to a topic of its own (KAFKA_TOPIC_PREFIX),
 *      then a separate persister started on it, timed until N rows;
 *   5. the seed scenario (loadtests/run seed): event-to-row p99 from the table, p95/p99/max;
 *   and the peak resident memory of each service under load (steps 2, 3 and 5).
 * Prints a table and writes bench.json / bench.md into loadtests/results/bench-<timestamp>/.
 *
 *   node src/bench.ts     (loadtests/bench ensures k6, wrk, the stack and the services first)
 * BENCH_SECONDS (10), BENCH_CONNECTIONS (64), BENCH_DRAIN_EVENTS (200000), BENCH_SKIP_SEED=1.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { COUPON_ISSUED_VERSION, type CouponIssuedEvent, eventKey, topicNames } from '@coupon/contracts';
import { Kafka, logLevel } from 'kafkajs';
import mysql from 'mysql2/promise';
import { DATABASE_URL, rowStats } from './rows.ts';
import { readProc } from './scrape.ts';
import { parseWrk, type WrkResult } from './wrk.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const BASE_URL = process.env.BASE_URL ?? 'http://127.0.0.1:3000';
const ADMIN_TOKEN = process.env.ADMIN_TOKEN ?? 'dev-admin-token';
const KAFKA_BROKERS = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64);
const DRAIN_EVENTS = Number(process.env.BENCH_DRAIN_EVENTS ?? 200_000);
const SERVICES = ['gateway', 'issuer', 'persister'] as const;

const TARGETS = { ratio: 0.25, drainRowsPerSec: 20_000, eventToRowP99Ms: 1000, rssMb: 200 };

function loopbackOnly(url: string): void {
  const host = new URL(url.includes('://') ? url : `tcp://${url}`).hostname;
  if (!/^(127\.\d+\.\d+\.\d+|localhost|\[::1\])$/.test(host))
    throw new Error(`bench targets loopback only, not ${url}`);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (s: string) => console.error(`[bench] ${s}`);

function run(
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

// ---------------------------------------------------------------------------------------------
// admin API

async function admin<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${BASE_URL}${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = (await res.json()) as T;
  if (!res.ok) throw new Error(`${method} ${path} → ${res.status} ${JSON.stringify(json)}`);
  return json;
}
interface Stats {
  quantity: number;
  admitted: number;
  persisted: number;
  dlt: number;
}
const createCoupon = (quantity: number, name: string) =>
  admin<{ id: number }>('POST', '/admin/coupons', { quantity, name: `bench ${name}` });
const stats = (id: number) => admin<Stats>('GET', `/admin/coupons/${id}/stats`);

async function waitPersisted(id: number, timeoutMs: number): Promise<Stats> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const s = await stats(id);
    if (s.persisted + s.dlt >= s.admitted || Date.now() > until) return s;
    await sleep(250);
  }
}

// ---------------------------------------------------------------------------------------------
// wrk

async function wrk(baseUrl: string, seconds: number, scriptArgs: string[] = []): Promise<WrkResult> {
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
  return parseWrk(await run('wrk', args, (seconds + 30) * 1000));
}

// ---------------------------------------------------------------------------------------------
// resident memory of the services while a step runs

class RssWatch {
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
      let pid: number;
      try {
        pid = Number(readFileSync(join(ROOT, '.local/run', `${s}.pid`), 'utf8').trim());
      } catch {
        continue;
      }
      const p = await readProc(pid);
      if (p) this.peak.set(s, Math.max(this.peak.get(s) ?? 0, p.rss / 1024));
    }
  }
}

// CPU time per request of each process: the ticks it used during a step / requests answered.
// Robust on a shared machine: contention stretches time, not the CPU a request costs.

const PROCS = ['gateway', 'issuer', 'persister', 'redis', 'kafka', 'mariadb'] as const;
const HZ = 100; // Linux USER_HZ

function pidOf(name: string): number | undefined {
  try {
    return Number(readFileSync(join(ROOT, '.local/run', `${name}.pid`), 'utf8').trim()) || undefined;
  } catch {
    return undefined;
  }
}

async function cpuSnapshot(extra: Record<string, number> = {}): Promise<Map<string, number>> {
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
function cpuPerRequest(
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

// ---------------------------------------------------------------------------------------------
// steps

type Step = WrkResult & { cpuMs: Record<string, number> };

async function helloBaseline(): Promise<Step> {
  const child = spawn(process.execPath, [join(ROOT, 'loadtests/src/hello.ts')], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    const port = await new Promise<number>((ok, fail) => {
      const rl = createInterface({ input: child.stdout });
      rl.once('line', (l) => ok(Number(l)));
      child.once('exit', (code) => fail(new Error(`hello server exited (${code})`)));
    });
    const url = `http://127.0.0.1:${port}`;
    await wrk(url, 2, ['1', '1']); // warm-up
    const extra: Record<string, number> = child.pid ? { hello: child.pid } : {};
    const before = await cpuSnapshot(extra);
    const r = await wrk(url, SECONDS, ['1', '1']);
    const cpuMs = cpuPerRequest(before, await cpuSnapshot(extra), r.requests);
    return { ...r, cpuMs: { hello: cpuMs.hello ?? Number.NaN } };
  } finally {
    child.kill('SIGTERM');
  }
}

async function acceptedPath(): Promise<Step & { couponId: number; stats: Stats }> {
  const { id } = await createCoupon(10_000_000, 'accepted path');
  // A new coupon, so user ids only need to be distinct within this step.
  await wrk(BASE_URL, 2, [String(id), '1']); // warm-up (JIT, keep-alive pools)
  await waitPersisted(id, 60_000);
  const before = await cpuSnapshot();
  const r = await wrk(BASE_URL, SECONDS, [String(id), '1000000000']);
  const s = await waitPersisted(id, 120_000); // the persister's share of the work ends here
  return { ...r, cpuMs: cpuPerRequest(before, await cpuSnapshot(), r.requests), couponId: id, stats: s };
}

async function soldOutPath(): Promise<Step & { couponId: number }> {
  const { id } = await createCoupon(1, 'sold-out path');
  await fetch(`${BASE_URL}/coupons/1/issue-async?couponId=${id}`, { method: 'POST' }); // takes the only coupon
  await wrk(BASE_URL, 2, [String(id), '2']);
  await waitPersisted(id, 30_000);
  const before = await cpuSnapshot();
  const r = await wrk(BASE_URL, SECONDS, [String(id), '1000000000']);
  return { ...r, cpuMs: cpuPerRequest(before, await cpuSnapshot(), r.requests), couponId: id };
}

export interface DrainResult {
  events: number;
  produceSeconds: number;
  /** From the persister's start to the last row (includes joining the group). */
  wallSeconds: number;
  /** From the first to the last row written (the table's created_at). */
  rowsPerSecond?: number;
  rows: number;
}

async function persisterDrain(): Promise<DrainResult> {
  loopbackOnly(KAFKA_BROKERS);
  const prefix = `bench-${Date.now()}.`;
  const topics = topicNames(prefix);
  const { id: couponId } = await createCoupon(DRAIN_EVENTS, 'persister drain');
  const kafka = new Kafka({
    clientId: 'coupon-bench',
    brokers: KAFKA_BROKERS.split(','),
    logLevel: logLevel.NOTHING,
  });
  const kadmin = kafka.admin();
  await kadmin.connect();
  let persister: ChildProcess | undefined;
  try {
    await kadmin.createTopics({
      waitForLeaders: true,
      topics: [topics.issued, topics.issuedDlt].map((topic) => ({
        topic,
        numPartitions: 6,
        replicationFactor: 1,
      })),
    });
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    const t0 = performance.now();
    const batch = 5_000;
    const userBase = 3_000_000_000;
    for (let i = 0; i < DRAIN_EVENTS; i += batch) {
      const messages = [];
      for (let j = i; j < Math.min(DRAIN_EVENTS, i + batch); j++) {
        const event: CouponIssuedEvent = {
          v: COUPON_ISSUED_VERSION,
          eventId: randomUUID(),
          couponId,
          userId: userBase + j,
          issuedAt: Date.now(),
          requestId: `bench-${j}`,
        };
        messages.push({ key: eventKey(event), value: JSON.stringify(event) });
      }
      await producer.send({ topic: topics.issued, acks: -1, messages });
    }
    const produceSeconds = (performance.now() - t0) / 1000;
    await producer.disconnect();
    log(
      `produced ${DRAIN_EVENTS} events in ${produceSeconds.toFixed(1)} s to ${topics.issued}; starting a persister on it`,
    );

    const t1 = performance.now();
    persister = spawn(process.execPath, [join(ROOT, 'services/persister/dist/main.js')], {
      env: {
        ...process.env,
        KAFKA_TOPIC_PREFIX: prefix,
        PORT: '0',
        MIGRATE_ON_START: 'false',
        LOG_LEVEL: 'warn',
        KAFKA_BROKERS,
        DATABASE_URL,
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const conn = await mysql.createConnection({ uri: DATABASE_URL });
    let rows = 0;
    try {
      const until = Date.now() + 180_000;
      while (rows < DRAIN_EVENTS && Date.now() < until && persister.exitCode === null) {
        await sleep(100);
        const [r] = await conn.query<mysql.RowDataPacket[]>(
          'SELECT COUNT(*) AS n FROM coupon_issue WHERE coupon_id = ?',
          [couponId],
        );
        rows = Number(r[0]?.n ?? 0);
      }
    } finally {
      await conn.end();
    }
    const wallSeconds = (performance.now() - t1) / 1000;
    const rs = await rowStats(couponId);
    // The rows were never admitted by the gate: remove them so the coupon's Redis and MySQL agree.
    const del = await mysql.createConnection({ uri: DATABASE_URL });
    await del
      .query('DELETE FROM coupon_issue WHERE coupon_id = ?', [couponId])
      .then(() => del.query('UPDATE coupon SET issued = 0 WHERE id = ?', [couponId])) // the quantity guard's counter
      .finally(() => del.end());
    return { events: DRAIN_EVENTS, produceSeconds, wallSeconds, rowsPerSecond: rs.writeRate, rows };
  } finally {
    if (persister && persister.exitCode === null) {
      persister.kill('SIGTERM');
      await new Promise((r) => persister?.once('exit', r));
    }
    await kadmin.deleteTopics({ topics: [topics.issued, topics.issuedDlt] }).catch(() => undefined);
    await kadmin.deleteGroups([topics.persisterGroup]).catch(() => undefined);
    await kadmin.disconnect();
  }
}

interface SeedReport {
  latency: { key: string; value?: number }[];
  rows?: { rows: number; eventToRow?: { p99: number; p50: number; max: number } };
  procs: { name: string; rssPeakMb?: number }[];
  ok: boolean;
  dropped: number;
  throughput: { mean?: number; peak?: number };
}

async function seedScenario(dir: string): Promise<SeedReport> {
  const out = join(dir, 'seed');
  await run(join(ROOT, 'loadtests/run'), ['seed', '--quiet'], 400_000, {
    ...process.env,
    RESULTS_DIR: out,
    NO_CSV: '1',
  });
  return JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as SeedReport;
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  loopbackOnly(BASE_URL);
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  const dir = join(ROOT, 'loadtests/results', `bench-${stamp}`);
  mkdirSync(dir, { recursive: true });
  const t0 = performance.now();
  const rss = new RssWatch();

  log(`1/5 bare node:http server, wrk -t1 -c${CONNECTIONS} ${SECONDS} s`);
  const hello = await helloBaseline();
  rss.start();
  log('2/5 accepted path (new user per request, ample stock)');
  const accepted = await acceptedPath();
  log('3/5 sold-out path');
  const soldOut = await soldOutPath();
  rss.stop();
  log(`4/5 persister drain of ${DRAIN_EVENTS} pre-filled events`);
  const drain = await persisterDrain();
  let seed: SeedReport | undefined;
  if (process.env.BENCH_SKIP_SEED !== '1') {
    log('5/5 seed scenario (about 2.5 min)');
    seed = await seedScenario(dir);
  }

  const rssPeak: Record<string, number | undefined> = {};
  for (const s of SERVICES) {
    const fromSeed = seed?.procs.find((p) => p.name === s)?.rssPeakMb;
    rssPeak[s] = Math.max(rss.peak.get(s) ?? 0, fromSeed ?? 0) || undefined;
  }
  const ratio = accepted.rps / hello.rps;
  // A ratio only means something when the accepted path really answered 202.
  const acceptedValid = (accepted.statuses['202'] ?? 0) >= 0.99 * accepted.requests;
  const lat = (k: string) => seed?.latency.find((l) => l.key === k)?.value;
  const e2r = seed?.rows?.eventToRow;
  const f = (n: number | undefined, d = 0) =>
    n === undefined ? 'n/a' : n.toLocaleString('en-US', { maximumFractionDigits: d });
  const answers = (r: WrkResult) =>
    Object.entries(r.statuses)
      .map(([code, n]) => `${f(n)} × ${code}`)
      .join(', ') + (r.errors ? `, ${f(r.errors)} socket errors` : '');
  const yes = (ok: boolean | undefined) => (ok === undefined ? 'n/a' : ok ? '✓' : '✗');
  const rows: [string, string, string, string][] = [
    ['bare node:http (wrk, 202 + JSON)', `${f(hello.rps)} req/s`, '', ''],
    [
      'accepted path end to end',
      `${f(accepted.rps)} req/s (p50 ${f(accepted.p50, 2)} ms, p99 ${f(accepted.p99, 1)} ms; ${answers(accepted)})`,
      '',
      '',
    ],
    [
      'accepted / bare node:http',
      `${(ratio * 100).toFixed(1)} %${acceptedValid ? '' : ' (INVALID: not all answers were 202)'}`,
      `≥ ${TARGETS.ratio * 100} %`,
      yes(acceptedValid ? ratio >= TARGETS.ratio : undefined),
    ],
    [
      'sold-out path',
      `${f(soldOut.rps)} req/s (p50 ${f(soldOut.p50, 2)} ms, p99 ${f(soldOut.p99, 1)} ms; ${answers(soldOut)})`,
      '',
      '',
    ],
    [
      'persister drain',
      `${f(drain.rowsPerSecond)} rows/s (${f(drain.rows)} rows; ${drain.wallSeconds.toFixed(1)} s from start incl. group join)`,
      `≥ ${f(TARGETS.drainRowsPerSec)} rows/s`,
      yes(drain.rowsPerSecond === undefined ? undefined : drain.rowsPerSecond >= TARGETS.drainRowsPerSec),
    ],
    [
      'event-to-row p99 (seed scenario, table)',
      e2r ? `${f(e2r.p99, 0)} ms (p50 ${f(e2r.p50, 0)}, max ${f(e2r.max, 0)})` : 'n/a',
      '≤ 1,000 ms',
      yes(e2r ? e2r.p99 <= TARGETS.eventToRowP99Ms : undefined),
    ],
    [
      'seed scenario p95 / p99 / max',
      seed ? `${f(lat('p95'), 2)} / ${f(lat('p99'), 2)} / ${f(lat('max'), 1)} ms` : 'n/a',
      '≤ 2.64 / 10 / 100 ms',
      yes(
        seed
          ? (lat('p95') ?? 1e9) <= 2.64 && (lat('p99') ?? 1e9) <= 10 && (lat('max') ?? 1e9) <= 100
          : undefined,
      ),
    ],
    [
      'seed scenario rows / dropped',
      seed ? `${f(seed.rows?.rows)} / ${f(seed.dropped)}` : 'n/a',
      '25,000 / 0',
      yes(seed ? seed.rows?.rows === 25_000 && seed.dropped === 0 : undefined),
    ],
    ...SERVICES.map((s): [string, string, string, string] => [
      `RSS ${s} (peak under load)`,
      rssPeak[s] === undefined ? 'n/a' : `${rssPeak[s]?.toFixed(0)} MB`,
      `≤ ${TARGETS.rssMb} MB`,
      yes(rssPeak[s] === undefined ? undefined : (rssPeak[s] ?? 0) <= TARGETS.rssMb),
    ]),
  ];
  const cpuRow = (label: string, st: Step) => {
    const parts = Object.entries(st.cpuMs)
      .filter(([, v]) => Number.isFinite(v))
      .sort((a, b) => b[1] - a[1])
      .map(([n, v]) => `${n} ${v.toFixed(3)}`);
    const total = Object.values(st.cpuMs)
      .filter(Number.isFinite)
      .reduce((a, b) => a + b, 0);
    // Two cores' worth of CPU divided by what one request costs: the ceiling without a load generator.
    return `| ${label} | ${parts.join(', ')} | ${total.toFixed(3)} | ${f(2000 / total)} req/s |`;
  };
  const cpuTable = [
    '',
    'CPU per request (ms of CPU time, from /proc, during the step; wrk itself not counted)',
    '',
    '| step | per process | total | ceiling on 2 cores |',
    '|---|---|---:|---:|',
    cpuRow('bare node:http', hello),
    cpuRow('accepted path (incl. persisting)', accepted),
    cpuRow('sold-out path', soldOut),
    '',
  ];
  const md = [
    `Benchmarks, ${new Date().toISOString()}, ${SECONDS} s per wrk step, ${CONNECTIONS} connections, total ${((performance.now() - t0) / 1000).toFixed(0)} s`,
    '',
    '| figure | measured | target | met |',
    '|---|---:|---|---|',
    ...rows.map((r) => `| ${r.join(' | ')} |`),
    ...cpuTable,
  ].join('\n');
  await writeFile(join(dir, 'bench.md'), md);
  await writeFile(
    join(dir, 'bench.json'),
    `${JSON.stringify({ hello, accepted, soldOut, drain, seed: seed && { latency: seed.latency, rows: seed.rows, ok: seed.ok }, rssPeak, ratio }, null, 2)}\n`,
  );
  console.log(md);
  console.log(`(written to ${dir})`);
}

if (import.meta.main) {
  const guard = setTimeout(() => {
    console.error('[bench] took longer than 10 min: giving up');
    process.exit(1);
  }, 10 * 60_000);
  guard.unref();
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
