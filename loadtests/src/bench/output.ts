/**
 * The bench's output, assembled in one place: the figures against their targets (targets.ts), the CPU
 * per request of each wrk step, bench.md and bench.json. A further table is one more function here.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { TARGETS } from '../targets.ts';
import type { WrkResult } from '../wrk.ts';
import type { Stats } from './admin.ts';
import type { AuthSteps } from './auth.ts';
import { CONNECTIONS, DRY, SECONDS, SERVICES } from './config.ts';
import type { HaSteps } from './ha.ts';
import type { DrainResult } from './persister.ts';
import { groupOf } from './procs.ts';
import type { SeedReport } from './seed.ts';
import type { SoldOut } from './sold-out.ts';
import type { Step } from './wrk.ts';

export interface Results {
  hello: Step;
  accepted: Step & { couponId: number; stats: Stats };
  soldOut: SoldOut;
  /** The same two paths through a gateway with AUTH_MODE=jwt. */
  auth?: AuthSteps;
  drain: DrainResult;
  seed?: SeedReport;
  /** Peak RSS per service (MB) during steps 2 and 3. */
  rss: Map<string, number>;
  /** Seconds the whole bench took. */
  seconds: number;
}

type Row = [string, string, string, string];

const f = (n: number | undefined, d = 0) =>
  n === undefined ? 'n/a' : n.toLocaleString('en-US', { maximumFractionDigits: d });
const yes = (ok: boolean | undefined) => (ok === undefined ? 'n/a' : ok ? '✓' : '✗');
const answers = (r: WrkResult) =>
  Object.entries(r.statuses)
    .map(([code, n]) => `${f(n)} × ${code}`)
    .join(', ') + (r.errors ? `, ${f(r.errors)} socket errors` : '');
const wrkFigures = (r: WrkResult) =>
  `${f(r.rps)} req/s (p50 ${f(r.p50, 2)} ms, p99 ${f(r.p99, 1)} ms; ${answers(r)})`;

/** Peak RSS per service: the larger of the bench's own watch and the seed scenario's report. */
function rssPeak(x: Results): Record<string, number | undefined> {
  const out: Record<string, number | undefined> = {};
  for (const s of SERVICES) {
    const fromSeed = x.seed?.procs.find((p) => p.name === s)?.rssPeakMb;
    out[s] = Math.max(x.rss.get(s) ?? 0, fromSeed ?? 0) || undefined;
  }
  return out;
}

const ratioOf = (x: Results) => x.accepted.rps / x.hello.rps;

/** Total CPU per request of a step. */
const cpuTotal = (st: Step) =>
  Object.values(st.cpuMs)
    .filter(Number.isFinite)
    .reduce((a, b) => a + b, 0);
/** CPU per request of a step over the bare node:http server's. */
const cpuRatio = (st: Step, hello: Step) => cpuTotal(st) / cpuTotal(hello);

function wrkRows(x: Results): Row[] {
  const ratio = ratioOf(x);
  // A ratio only means something when the accepted path really answered 202.
  const valid = (x.accepted.statuses['202'] ?? 0) >= 0.99 * x.accepted.requests;
  const rate = x.drain.rowsPerSecond;
  return [
    ['bare node:http (wrk, 202 + JSON)', `${f(x.hello.rps)} req/s`, '', ''],
    ['accepted path end to end', wrkFigures(x.accepted), '', ''],
    [
      'accepted / bare node:http',
      `${(ratio * 100).toFixed(1)} %${valid ? '' : ' (INVALID: not all answers were 202)'}`,
      `≥ ${TARGETS.ratio * 100} %`,
      yes(valid ? ratio >= TARGETS.ratio : undefined),
    ],
    ['sold-out path, edge answer on', wrkFigures(x.soldOut.edgeOn), '', ''],
    ['sold-out path, edge answer off', wrkFigures(x.soldOut.edgeOff), '', ''],
    [
      'sold-out CPU per request / bare node:http, edge on (off)',
      `${cpuRatio(x.soldOut.edgeOn, x.hello).toFixed(2)}× (${cpuRatio(x.soldOut.edgeOff, x.hello).toFixed(2)}×)`,
      `≤ ${TARGETS.soldOutCpuRatio}×`,
      yes(cpuRatio(x.soldOut.edgeOn, x.hello) <= TARGETS.soldOutCpuRatio),
    ],
    ...authRows(x),
    [
      'persister drain',
      `${f(rate)} rows/s (${f(x.drain.rows)} rows; ${x.drain.wallSeconds.toFixed(1)} s from start incl. group join)`,
      `≥ ${f(TARGETS.drainRowsPerSec)} rows/s`,
      yes(rate === undefined ? undefined : rate >= TARGETS.drainRowsPerSec),
    ],
  ];
}

/** CPU per request as a multiple of bare node:http's, in the same run. */
const times = (st: Step, x: Results) => cpuRatio(st, x.hello);

/** Auth on beside auth off: the paths' figures, and their CPU per request as multiples of bare. */
function authRows(x: Results): Row[] {
  const { auth } = x;
  const ratio = (off: Step, on: Step | undefined) =>
    `${times(off, x).toFixed(1)}× off, ${on ? `${times(on, x).toFixed(1)}× on` : 'n/a on'}`;
  return [
    ...(auth
      ? ([
          ['accepted path, auth on (HS256, new token each)', wrkFigures(auth.accepted), '', ''],
          ['sold-out path, auth on (edge before the token)', wrkFigures(auth.soldOut), '', ''],
        ] as Row[])
      : []),
    ['accepted CPU / bare node:http, auth off / on', ratio(x.accepted, auth?.accepted), '', ''],
    [
      'sold-out CPU / bare node:http (edge on), auth off / on',
      ratio(x.soldOut.edgeOn, auth?.soldOut),
      `on ≤ ${TARGETS.soldOutCpuRatio}×`,
      yes(auth ? times(auth.soldOut, x) <= TARGETS.soldOutCpuRatio : undefined),
    ],
  ];
}

function seedRows(seed: SeedReport | undefined): Row[] {
  const lat = (k: string) => seed?.latency.find((l) => l.key === k)?.value;
  const e2r = seed?.rows?.eventToRow;
  const { p95, p99, max } = TARGETS;
  return [
    [
      'event-to-row p99 (seed scenario, table)',
      e2r ? `${f(e2r.p99, 0)} ms (p50 ${f(e2r.p50, 0)}, max ${f(e2r.max, 0)})` : 'n/a',
      `≤ ${f(TARGETS.eventToRowP99Ms)} ms`,
      yes(e2r ? e2r.p99 <= TARGETS.eventToRowP99Ms : undefined),
    ],
    [
      'seed scenario p95 / p99 / max',
      seed ? `${f(lat('p95'), 2)} / ${f(lat('p99'), 2)} / ${f(lat('max'), 1)} ms` : 'n/a',
      `≤ ${p95} / ${p99} / ${max} ms`,
      yes(
        seed
          ? (lat('p95') ?? 1e9) <= p95 && (lat('p99') ?? 1e9) <= p99 && (lat('max') ?? 1e9) <= max
          : undefined,
      ),
    ],
    [
      'seed scenario rows / dropped',
      seed ? `${f(seed.rows?.rows)} / ${f(seed.dropped)}` : 'n/a',
      `${f(TARGETS.rows)} / ${TARGETS.dropped}`,
      yes(seed ? seed.rows?.rows === TARGETS.rows && seed.dropped === TARGETS.dropped : undefined),
    ],
  ];
}

function rssRows(peak: Record<string, number | undefined>): Row[] {
  return SERVICES.map(
    (s): Row => [
      `RSS ${s} (peak under load)`,
      peak[s] === undefined ? 'n/a' : `${peak[s]?.toFixed(0)} MB`,
      `≤ ${TARGETS.rssMb} MB`,
      yes(peak[s] === undefined ? undefined : (peak[s] ?? 0) <= TARGETS.rssMb),
    ],
  );
}

function cpuRow(label: string, st: Step): string {
  const parts = Object.entries(st.cpuMs)
    .filter(([, v]) => Number.isFinite(v))
    .sort((a, b) => b[1] - a[1])
    .map(([n, v]) => `${n} ${v.toFixed(3)}`);
  const total = cpuTotal(st);
  // Two cores' worth of CPU divided by what one request costs: the ceiling without a load generator.
  return `| ${label} | ${parts.join(', ')} | ${total.toFixed(3)} | ${f(2000 / total)} req/s |`;
}

function cpuTable(x: Results): string[] {
  return [
    '',
    'CPU per request (ms of CPU time, from /proc, during the step; wrk itself not counted)',
    '',
    '| step | per process | total | ceiling on 2 cores |',
    '|---|---|---:|---:|',
    cpuRow('bare node:http', x.hello),
    cpuRow('accepted path (incl. persisting)', x.accepted),
    cpuRow('sold-out path, edge answer on', x.soldOut.edgeOn),
    cpuRow('sold-out path, edge answer off', x.soldOut.edgeOff),
    ...(x.auth
      ? [
          cpuRow('accepted path, auth on (incl. persisting)', x.auth.accepted),
          cpuRow('sold-out path, auth on', x.auth.soldOut),
        ]
      : []),
    '',
  ];
}

export function benchMarkdown(x: Results, at = new Date()): string {
  const rows = [...wrkRows(x), ...seedRows(x.seed), ...rssRows(rssPeak(x))];
  return [
    `Benchmarks, ${at.toISOString()}, ${SECONDS} s per wrk step, ${CONNECTIONS} connections, total ${x.seconds.toFixed(0)} s`,
    '',
    '| figure | measured | target | met |',
    '|---|---:|---|---|',
    ...rows.map((r) => `| ${r.join(' | ')} |`),
    ...cpuTable(x),
  ].join('\n');
}

/** The process groups of --ha's table, in its order, with their labels (procs.ts groupOf). */
const GROUPS: Record<string, string> = {
  gateway: 'gateways',
  issuer: 'issuer',
  haproxy: 'HAProxy',
  redis: 'Redis (+ Sentinels)',
  kafka: 'Kafka brokers',
  persister: 'persister',
  mariadb: 'MariaDB (+ Galera, its proxy)',
};
const APP_TIER = ['gateway', 'issuer'];

/** CPU per request of a step by process group. */
function byGroup(st: Step): Map<string, number> {
  const out = new Map<string, number>();
  for (const [name, ms] of Object.entries(st.cpuMs))
    if (Number.isFinite(ms)) out.set(groupOf(name), (out.get(groupOf(name)) ?? 0) + ms);
  return out;
}

/** "one node → --ha (×)" for one figure. */
function beside(one: number | undefined, ha: number | undefined, d = 3): string {
  const x = one && ha !== undefined ? ` (${(ha / one).toFixed(1)}×)` : '';
  const n = (v: number | undefined) => (v === undefined ? '–' : d === 0 ? f(v) : v.toFixed(d));
  return `${n(one)} → ${n(ha)}${x}`;
}

/** --ha: CPU per request per process group, one node → the replicated topology, and the app tier's ratio. */
export function haMarkdown(x: HaSteps, seconds: number, at = new Date()): string {
  const cols: [string, Step, Step][] = [
    ['sold-out, edge answer on', x.soldOut.oneNode.edgeOn, x.soldOut.replicated.edgeOn],
    ['sold-out, edge answer off', x.soldOut.oneNode.edgeOff, x.soldOut.replicated.edgeOff],
    ['accepted (incl. persisting)', x.accepted.oneNode, x.accepted.replicated],
  ];
  const g = cols.map(([, one, ha]) => [byGroup(one), byGroup(ha)] as const);
  const names = [...new Set([...Object.keys(GROUPS), ...g.flatMap(([a, b]) => [...a.keys(), ...b.keys()])])];
  const sum = (m: Map<string, number>, only?: string[]) =>
    [...m].filter(([k]) => !only || only.includes(k)).reduce((a, [, v]) => a + v, 0);
  const row = (label: string, cell: (i: number) => string) =>
    `| ${label} | ${cols.map((_, i) => cell(i)).join(' | ')} |`;
  const tier = (i: number) => {
    const [one, ha] = g[i] ?? [new Map(), new Map()];
    const ratio = sum(ha, APP_TIER) / sum(one, APP_TIER);
    const judged = i < 2 ? ` ${yes(ratio <= TARGETS.haAppTierRatio)}` : '';
    return `**${beside(sum(one, APP_TIER), sum(ha, APP_TIER))}**${judged}`;
  };
  return [
    `Replicated topology (scripts/start --ha, through HAProxy) beside one node, ${at.toISOString()}, ${SECONDS} s per wrk step, ${CONNECTIONS} connections, total ${seconds.toFixed(0)} s`,
    '',
    'CPU per request (ms of CPU time, from /proc, during the step), one node → --ha (× one node)',
    '',
    `| process group | ${cols.map(([l]) => l).join(' | ')} |`,
    `|---|${cols.map(() => '---:').join('|')}|`,
    row('throughput (req/s)', (i) => beside(cols[i]?.[1].rps, cols[i]?.[2].rps, 0)),
    ...names
      .filter((n) => g.some(([a, b]) => a.has(n) || b.has(n)))
      .map((n) => row(GROUPS[n] ?? n, (i) => beside(g[i]?.[0].get(n), g[i]?.[1].get(n)))),
    row(`app tier (gateways + issuer), sold-out target ≤ ${TARGETS.haAppTierRatio}×`, tier),
    row('total', (i) => beside(sum(g[i]?.[0] ?? new Map()), sum(g[i]?.[1] ?? new Map()))),
    '',
    ...cols.flatMap(([l, one, ha]) => [
      `- ${l}, one node: ${wrkFigures(one)}`,
      `- ${l}, --ha: ${wrkFigures(ha)}`,
    ]),
    '',
  ].join('\n');
}

/** Writes bench.md and bench.json into dir (not in a dry run) and prints the Markdown. */
async function write(dir: string, md: string, json: unknown): Promise<void> {
  if (DRY) {
    console.log(md);
    console.log('(dry run: made-up figures, nothing written)');
    return;
  }
  await writeFile(join(dir, 'bench.md'), md);
  await writeFile(join(dir, 'bench.json'), `${JSON.stringify(json, null, 2)}\n`);
  console.log(md);
  console.log(`(written to ${dir})`);
}

export function writeBench(dir: string, x: Results): Promise<void> {
  const { hello, accepted, soldOut, auth, drain, seed } = x;
  const json = {
    hello,
    accepted,
    soldOut,
    auth,
    drain,
    seed: seed && { latency: seed.latency, rows: seed.rows, ok: seed.ok },
    rssPeak: rssPeak(x),
    ratio: ratioOf(x),
  };
  return write(dir, benchMarkdown(x), json);
}

export const writeHa = (dir: string, x: HaSteps, seconds: number) => write(dir, haMarkdown(x, seconds), x);
