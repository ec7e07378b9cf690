import { loadavg } from 'node:os';
import type { DbPool } from '@coupon/db';
import type { OwnedDeps } from '@coupon/ops';
import { expect } from 'vitest';
import { sleep } from '../support/index.js';
import { type CouponAccount, opsDeps, settle } from './accounting.js';
import { AmbiguityWatch, type AutoSettle } from './ambiguity.js';
import { Load, percentile, tallyShots, unhealthy } from './load.js';
import type { ServiceProcess } from './processes.js';
import { type Deps, Topology } from './topology.js';

/**
 * After the dependencies are back, the automatic reconcile has this long to settle every ambiguous
 * admission (the topology's issuers run it with a short interval and grace: topology.ts). FAULTS_WINDOW_MS overrides it.
 */
export const AMBIGUOUS_WINDOW_MS = Number(process.env.FAULTS_WINDOW_MS ?? 60_000);

export interface FaultSystem {
  /** The load goes round-robin through these (unless `entry` is set); admin calls go to the first. */
  gateways: ServiceProcess[];
  /** Where the load is sent instead of the gateways, e.g. a load balancer in front of them. */
  entry?: string[];
}

export interface FaultSpec<S extends FaultSystem> {
  name: string;
  /** Dependencies other than the shared stack (a private Redis or Kafka). */
  deps?: Partial<Deps>;
  rate: number;
  /** Steady load before the fault, and after it is cleared. */
  beforeMs: number;
  afterMs: number;
  /** Stock of the small coupon (a fifth of the requests ask for it); default: sold out about mid-fault. */
  smallQuantity?: number;
  drainMs?: number;
  /**
   * From the dependencies back (the fault cleared) until no admitted slot may be left ambiguous: the
   * automatic reconcile's budget (default AMBIGUOUS_WINDOW_MS).
   */
  windowMs?: number;
  build(t: Topology): Promise<S>;
  /** Releases what the spec itself started (a private Redis), after the topology closed. */
  close?(): Promise<void>;
  /**
   * Injects the fault and resolves once it is cleared (the runner marks `fault` before, `cleared`
   * after; a mark 'deps back' set by the spec replaces `cleared` as the start of the settle window).
   */
  inject(s: S, ctx: { load: Load; topo: Topology }): Promise<void>;
}

export interface FaultRow {
  fault: string;
  /** Requests sent while the fault was on, and their 202 and 5xx/no-answer counts. */
  during: number;
  during202: number;
  during5xx: number;
  /** Whole run. */
  requests: number;
  accepted: number;
  persisted: number;
  dlt: number;
  /** Admitted without a row after the drain, re-published by reconcile --repair. */
  repaired: number;
  /** 5xx or no answer, yet a row: admitted but not acknowledged. */
  ambiguous: number;
  /** Rows the gate had forgotten (not in its admitted set) before the repair. */
  forgotten: number;
  /** Told 202 without a row or a DLT entry before any reconcile (0 expected). */
  unpersisted202: number;
  /** Admitted slots without a row, refusal or event in flight the window after the dependencies were back. */
  ambiguousLeft: number;
  /** From the dependencies back until no slot was ambiguous, settled by the system alone; '-': none seen. */
  autoSettleS: string;
  /** From the first 5xx/no answer after the fault began to the last one answered; '-': none. */
  windowS: string;
  /** From the fault's start to the last 5xx/no answer (the time to recover); '-': the edge never failed. */
  faultOkS: string;
  /** From the fault cleared to the last 5xx/no answer; '-' when the edge never failed. */
  edgeRecoverS: string;
  /** From the fault cleared until rows caught up with the 202s answered 1 s earlier. */
  rowsRecoverS: string;
  violations: string[];
}

export interface FaultResult<S> {
  row: FaultRow;
  accounts: CouponAccount[];
  auto?: AutoSettle;
  load: Load;
  system: S;
  topo: Topology;
  crashes: string[];
}

/** Counts the rows of the coupons every 500 ms while the load runs. */
function monitorRows(
  pool: DbPool,
  ids: number[],
  load: Load,
): { samples: Array<[number, number]>; stop(): void } {
  const samples: Array<[number, number]> = [];
  let on = true;
  void (async () => {
    while (on) {
      const rows = await pool
        .with(
          async (c) =>
            (await c.query('SELECT COUNT(*) AS n FROM coupon_issue WHERE coupon_id IN (?)', [ids]))[0],
        )
        .catch(() => undefined);
      const n = Number((rows as Array<{ n: number }> | undefined)?.[0]?.n ?? Number.NaN);
      if (!Number.isNaN(n)) samples.push([load.now(), n]);
      await sleep(500);
    }
  })();
  return {
    samples,
    stop: () => {
      on = false;
    },
  };
}

/**
 * runFault, with its row added to `rows` and what every fault must keep asserted: I1–I4 hold (the
 * processes' report on failure), no service crashed, nothing went to the DLT.
 */
export async function runChecked<S extends FaultSystem>(
  spec: FaultSpec<S>,
  pool: DbPool,
  rows: FaultRow[],
): Promise<FaultResult<S>> {
  const r = await runFault(spec, pool);
  rows.push(r.row);
  expect(r.row.violations, r.topo.procs.report()).toEqual([]);
  expect(r.crashes).toEqual([]);
  expect(r.row.dlt).toBe(0);
  return r;
}

/**
 * After a Redis restart from its AOF: on both coupons of the run (a loop over an empty account list
 * would pass), no admission forgotten and no stock above quantity − admitted.
 */
export function expectNothingForgotten(r: FaultResult<unknown>): void {
  const none = { forgotten: 0, stockDelta: 0 };
  expect(r.accounts.map((a) => ({ forgotten: a.forgotten, stockDelta: a.stockDelta }))).toEqual([none, none]);
}

/**
 * Starts the topology, runs the load, injects the fault, recovers, settles and accounts. The
 * processes' logs are deleted after a clean run and kept (their directory printed) otherwise.
 */
export async function runFault<S extends FaultSystem>(
  spec: FaultSpec<S>,
  pool: DbPool,
): Promise<FaultResult<S>> {
  const topo = new Topology(spec.name, spec.deps);
  let clean = false;
  let watchOps: OwnedDeps | undefined;
  let watch: AmbiguityWatch | undefined;
  try {
    const system = await spec.build(topo);
    const admin = topo.admin(system.gateways[0] as ServiceProcess);
    const smallQty =
      spec.smallQuantity ?? Math.max(10, Math.round(((spec.rate * spec.beforeMs) / 1_000) * 0.3));
    const big = await admin.createCoupon(1_000_000);
    const small = await admin.createCoupon(smallQty);
    topo.coupons.push(big.id, small.id);
    const load = new Load({
      urls: system.entry ?? system.gateways.map((g) => g.url),
      rate: spec.rate,
      pick: (n) => (n % 5 === 0 ? small.id : big.id),
    }).start();
    const monitor = monitorRows(pool, [big.id, small.id], load);
    watchOps = await opsDeps(topo.deps);
    await sleep(spec.beforeMs);
    const faultAt = load.mark('fault');
    await spec.inject(system, { load, topo });
    const clearedAt = load.mark('cleared');
    // A spec may mark 'deps back' itself when it does more after the dependencies returned (retries).
    const backAt = load.marks.get('deps back') ?? clearedAt;
    watch = new AmbiguityWatch(watchOps, pool, [big.id, small.id], load, Date.now() - (load.now() - backAt));
    await sleep(spec.afterMs);
    await load.stop();
    monitor.stop();

    const windowMs = spec.windowMs ?? AMBIGUOUS_WINDOW_MS;
    const { accounts, auto } = await settle(
      topo.deps,
      pool,
      [
        { id: big.id, quantity: big.quantity },
        { id: small.id, quantity: small.quantity },
      ],
      load.shots,
      { drainMs: spec.drainMs, watch, windowMs },
    );
    const during = load.between(faultAt, clearedAt);
    const bad = load.between(faultAt).filter(unhealthy);
    const lastBad = Math.max(-1, ...bad.map((s) => s.t + s.ms));
    const firstBad = Math.min(...bad.map((s) => s.t));
    const accepted202 = load.shots.filter((s) => s.status === 202).map((s) => s.t + s.ms);
    const caughtUp = monitor.samples.find(
      ([t, n]) => t >= clearedAt && n >= accepted202.filter((a) => a <= t - 1_000).length,
    );
    const sum = (f: (a: CouponAccount) => number) => accounts.reduce((n, a) => n + f(a), 0);
    const row: FaultRow = {
      fault: spec.name,
      during: during.length,
      during202: during.filter((s) => s.status === 202).length,
      during5xx: during.filter(unhealthy).length,
      requests: load.shots.length,
      accepted: sum((a) => a.accepted),
      persisted: sum((a) => a.rows),
      dlt: sum((a) => Object.values(a.dlt).reduce((x, y) => x + y, 0)),
      repaired: sum((a) => a.repaired),
      ambiguous: sum((a) => a.ambiguous),
      forgotten: sum((a) => a.forgotten),
      unpersisted202: sum((a) => a.unpersisted202),
      ambiguousLeft: auto?.left.length ?? 0,
      autoSettleS:
        auto?.settleS === undefined ? (auto?.left.length ? 'not settled' : '-') : auto.settleS.toFixed(1),
      windowS: lastBad < 0 ? '-' : ((lastBad - firstBad) / 1_000).toFixed(1),
      faultOkS: lastBad < 0 ? '-' : ((lastBad - faultAt) / 1_000).toFixed(1),
      edgeRecoverS: lastBad < 0 ? '-' : (Math.max(0, lastBad - clearedAt) / 1_000).toFixed(1),
      rowsRecoverS: caughtUp ? ((caughtUp[0] - clearedAt) / 1_000).toFixed(1) : 'after run',
      violations: accounts.flatMap((a) => a.violations.map((v) => `coupon ${a.couponId}: ${v}`)),
    };
    const notes = accounts.flatMap((a) => a.notes);
    const base = load.between(0, faultAt).map((s) => s.ms);
    console.log(
      `[faults] ${spec.name}: ${JSON.stringify(tallyShots(load.shots))}, not sent (client saturated) ${load.skipped}, ` +
        `before the fault p50 ${percentile(base, 0.5)} ms p99 ${percentile(base, 0.99)} ms, ` +
        `ambiguous slots after the dependencies were back: peak ${auto?.peak ?? 0}, left ${auto?.left.length ?? 0}` +
        `${auto?.left.length ? ` (${auto.left.slice(0, 10)})` : ''}, settled by itself after ${row.autoSettleS} s; ` +
        `load average ${loadavg()[0]?.toFixed(1)}${notes.length ? `; notes: ${notes.join('; ')}` : ''}`,
    );
    const crashes = topo.procs.crashes();
    clean = row.violations.length === 0 && crashes.length === 0;
    return { row, accounts, auto, load, system, topo, crashes };
  } finally {
    await watch?.stop();
    await watchOps?.close();
    await topo.close();
    await spec.close?.();
    if (clean) topo.procs.removeLogs();
    else console.log(`[faults] ${spec.name}: logs kept in ${topo.procs.logDir}`);
  }
}

const COLUMNS: Array<[string, keyof FaultRow]> = [
  ['fault', 'fault'],
  ['req during', 'during'],
  ['202 during', 'during202'],
  ['5xx during', 'during5xx'],
  ['requests', 'requests'],
  ['accepted', 'accepted'],
  ['persisted', 'persisted'],
  ['DLT', 'dlt'],
  ['repaired', 'repaired'],
  ['ambiguous', 'ambiguous'],
  ['forgotten', 'forgotten'],
  ['202 without row', 'unpersisted202'],
  ['ambiguous left after 60 s', 'ambiguousLeft'],
  ['auto-settle s', 'autoSettleS'],
  ['5xx window s', 'windowS'],
  ['fault→ok s', 'faultOkS'],
  ['edge recover s', 'edgeRecoverS'],
  ['rows recover s', 'rowsRecoverS'],
];

/** The fault table, one line per fault, as markdown. */
export function faultTable(rows: readonly FaultRow[]): string {
  const cells = [COLUMNS.map(([h]) => h), ...rows.map((r) => COLUMNS.map(([, k]) => String(r[k])))];
  const widths = COLUMNS.map((_, i) => Math.max(...cells.map((c) => (c[i] as string).length)));
  const line = (c: string[]) => `| ${c.map((x, i) => x.padEnd(widths[i] as number)).join(' | ')} |`;
  const [head, ...body] = cells as [string[], ...string[][]];
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}
