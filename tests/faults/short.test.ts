import type { DbPool } from '@coupon/db';
import { producerHorizonMs, producerTiming } from '@coupon/kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testPool } from '../integration/harness.js';
import { percentile } from './load.js';
import { PrivateKafka } from './private-kafka.js';
import {
  expectNothingForgotten,
  type FaultRow,
  type FaultSpec,
  type FaultSystem,
  faultTable,
  runChecked,
} from './run.js';
import {
  dbOutage,
  HANG_TIMEOUT_MS,
  issuerHang,
  issuerKill,
  redisLost,
  redisRestart,
  type Timing,
} from './scenarios.js';
import { redisFailover } from './scenarios-ha.js';
import {
  falseRetryAnswers,
  gateLossDbHung,
  gateLossDuringBrokerKill,
  replicaStall,
} from './scenarios-settle.js';

const HORIZON_MS = producerHorizonMs(producerTiming());

/**
 * The short form of the fault suite (CI): a few faults under a steady load through the gateway,
 * each on its own processes and topics; after each, I1–I4 from MariaDB, Redis and the DLT, and every
 * 202 accounted for. `pnpm faults` runs the long form (tests/faults/long.test.ts).
 */
const tm: Timing = { rate: 200, beforeMs: 3_000, afterMs: 5_000, outageMs: 10_000 };
const rows: FaultRow[] = [];
let pool: DbPool;

beforeAll(() => {
  pool = testPool();
});
afterAll(async () => {
  if (rows.length) console.log(`fault table (short form, ${tm.rate} req/s)\n${faultTable(rows)}`);
  await pool?.end();
});

const run = <S extends FaultSystem>(spec: FaultSpec<S>) => runChecked(spec, pool, rows);

// `pnpm faults` (FAULTS_LONG=1) runs the long form of the same faults instead.
describe.skipIf(process.env.FAULTS_LONG === '1')('faults under load (short form)', () => {
  it('issuer kill -9: in-flight admissions are either persisted or re-published by reconcile', async () => {
    const r = await run(issuerKill({ ...tm }));
    expect(r.row.during5xx).toBeGreaterThan(0);
  });

  it('issuer hangs: the breaker opens, 503 comes without waiting, and it closes after recovery', async () => {
    const r = await run(issuerHang({ ...tm, outageMs: 10_000 }));
    expect(r.system.opened).toBeGreaterThan(0);
    expect(await r.system.closedAfter).toBeLessThan(10);
    // The breaker opens once failures reach half of its 10 s window, healthy calls included: about
    // 5 s into the hang here. From then on 503s do not wait for the 2 s budget; the bound (half of it)
    // is loose enough for a busy CI machine and far below what a hung call costs.
    const open = r.load.between(r.load.at('fault') + 7_000, r.load.at('cleared'));
    const ms = open.filter((s) => s.status === 503).map((s) => s.ms);
    expect(ms.length).toBeGreaterThan(0);
    expect(percentile(ms, 0.5)).toBeLessThan(HANG_TIMEOUT_MS / 2);
  });

  it('MariaDB unreachable 10 s: the persister backs off, nothing goes to the DLT, the lag drains', async () => {
    const r = await run(dbOutage({ ...tm }));
    expect(r.row.during202).toBeGreaterThan(0);
  });

  it('Redis kill -9 and restart from its AOF: no admission forgotten, no stock re-opened', async () => {
    // appendfsync always: with the default everysec a kill -9 may lose acknowledged admissions (see scenarios.ts).
    const r = await run(await redisRestart({ ...tm, outageMs: 1_000 }, 'always'));
    expectNothingForgotten(r);
  });

  it('Redis data lost: the issuer answers 503, rebuilds each gate by itself, and sold stock stays sold', async () => {
    const r = await run(await redisLost({ ...tm }));
    console.log(`[faults] gates self-healed: ${JSON.stringify(r.system.healed)}`);
    // Rebuilt from the database and the topics, never from the quantity alone (I6), without an operator.
    expect(r.system.healed).toHaveLength(2);
    for (const g of r.system.healed) {
      expect(g.admitted).toBeGreaterThan(0);
      expect(g.remaining).toBe(Math.max(0, g.quantity - g.admitted));
      // The heal waits the producer's horizon + 1 s (every send taken before the loss has ended),
      // then the Kafka reads: a bound, not a figure (RESULTS.md has those).
      expect(g.afterMs).toBeGreaterThanOrEqual(HORIZON_MS);
      expect(g.afterMs).toBeLessThan(HORIZON_MS + 15_000);
    }
    // Meanwhile the issuer refused (503) rather than admit against an empty gate.
    const lost = r.load.between(r.load.at('fault'), r.load.at('cleared'));
    expect(lost.filter((s) => s.status === 503).length).toBeGreaterThan(0);
  });

  it('Redis primary kill -9 behind Sentinel: a replica is promoted, the services follow, every 202 is a row', async () => {
    const r = await run(await redisFailover({ ...tm }, { rejoin: false }));
    console.log(`[faults] ${r.row.fault}: ${JSON.stringify(r.system.figures)}`);
    expect(r.system.figures.promotedS).toBeLessThan(15);
    // The edge failed for a while (the primary was gone) and answered 202 again soon after the promotion.
    expect(r.row.during5xx).toBeGreaterThan(0);
    expect(Number(r.row.faultOkS)).toBeLessThan(20);
    expect(r.load.between(r.load.at('cleared')).filter((x) => x.status === 202).length).toBeGreaterThan(0);
  });

  // Settle by itself (issue 16): the runner checks, before any reconcile, that every 202 has a row and
  // no admitted slot is left ambiguous once the automatic reconcile had its window.
  it('both Redis replicas stalled: WAIT is short, the rejected users retry and end with a row or nothing', async () => {
    const r = await run(await replicaStall({ ...tm, outageMs: 3_000 }));
    expect(await falseRetryAnswers(pool, r.system.retried)).toEqual([]);
    expect(r.system.rejected).toBeGreaterThan(0);
  });

  it('gate lost while MariaDB does not answer: 503, never 404, and the gate heals once it answers', async () => {
    const r = await run(gateLossDbHung({ ...tm, outageMs: 4_000 }));
    const during = r.load.between(r.load.at('fault'), r.load.at('cleared'));
    expect(during.filter((x) => x.status === 503).length).toBeGreaterThan(0);
    expect(r.load.shots.filter((x) => x.status === 404)).toEqual([]);
  });

  it.runIf(PrivateKafka.available())(
    'gate lost during a Kafka broker kill -9: the heal waits for the sends in flight, every 202 a row',
    async () => {
      const kafka = await PrivateKafka.start();
      try {
        await run(gateLossDuringBrokerKill({ ...tm, outageMs: 3_000 }, kafka));
      } finally {
        await kafka.stop();
      }
    },
  );
});

// A persister killed -9 is taken over once the broker expires its session (30 s): covered in CI by
// tests/faults/scale-out.test.ts (1 of 3 persisters), and by the long form (1 of 2).
