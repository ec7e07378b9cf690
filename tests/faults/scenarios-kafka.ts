import type { PartitionMetadata } from 'kafkajs';
import { sleep } from '../support/index.js';
import { opsDeps } from './accounting.js';
import { type Load, unhealthy } from './load.js';
import type { PrivateKafkaCluster } from './private-kafka-cluster.js';
import type { FaultSpec } from './run.js';
import type { Basic, Timing } from './scenarios.js';
import type { Topology } from './topology.js';

/** What the leader kill measured (seconds from the kill unless said otherwise). */
export interface LeaderKill extends Basic {
  /** The node killed, and how many partitions of the topic it led then. */
  victim: number;
  ledBefore: number;
  /** Replicas per partition of the topology's topic, as the services created it. */
  replicas: number[];
  /** Until every partition had a live leader in the metadata. */
  leadersMovedS: number;
  /** From the first to the last 5xx / no answer of requests sent after the kill (the 503 window). */
  pauseS: number;
  /** Until the last 5xx / no answer was answered: the edge recovered (0: it never failed). */
  recoverS: number;
  /** 202s of requests sent after the edge recovered and before the broker came back (two brokers). */
  degraded202: number;
  /** `stack --ha up kafkaN` on the killed node's data (log recovery, "Kafka Server started"). */
  restartS: number;
  /** From the restart begun until every partition of the topic had 3 in-sync replicas (NaN: not in 120 s). */
  isrS: number;
  /** 5xx / no answer of requests sent while the node restarted and rejoined. */
  rejoin5xx: number;
}

type Partitions = PartitionMetadata[];

/** At least this long on two brokers after leadership moved, before the killed one restarts. */
const DEGRADED_MS = 5_000;

/**
 * The broker leading the most partitions of `coupon.issued` is killed -9 under load: the controller
 * fences it after broker.session.timeout.ms, leadership moves to the in-sync followers, the issuer
 * answers 202 again (min.insync.replicas=2 of 3 still holds), the persister's group carries on. After
 * the outage (and at least DEGRADED_MS on two brokers) the node restarts on its data and rejoins
 * the ISR of every partition.
 */
export const kafkaLeaderKill = (
  tm: Timing,
  cluster: PrivateKafkaCluster,
  o: {
    name?: string;
    /** A second fault started right after the kill (it runs while the broker is down; awaited before the restart). */
    alsoAfterKill?: (ctx: { topo: Topology; load: Load }) => Promise<void>;
  } = {},
): FaultSpec<LeaderKill> => ({
  name: o.name ?? 'Kafka leader broker kill -9 (1 of 3) + rejoin',
  ...tm,
  deps: { KAFKA_BROKERS: cluster.brokers },
  build: async (t) => {
    const issuer = await t.issuer();
    const persister = await t.persister('persister-1');
    const gateway = await t.gateway('gateway', issuer.url);
    const none = Number.NaN;
    return {
      gateways: [gateway],
      issuer,
      persisters: [persister],
      victim: 0,
      ledBefore: 0,
      replicas: [],
      leadersMovedS: none,
      pauseS: 0,
      recoverS: 0,
      degraded202: 0,
      restartS: none,
      isrS: none,
      rejoin5xx: 0,
    };
  },
  inject: async (s, { load, topo }) => {
    const ops = await opsDeps(topo.deps);
    try {
      const partitions = async (): Promise<Partitions | undefined> => {
        const meta = await ops.admin
          .fetchTopicMetadata({ topics: [ops.topics.issued] })
          .catch(() => undefined);
        return meta?.topics[0]?.partitions;
      };
      const before = (await partitions()) ?? [];
      s.replicas = before.map((p) => p.replicas.length);
      const led = new Map<number, number>();
      for (const p of before) led.set(p.leader, (led.get(p.leader) ?? 0) + 1);
      [s.victim, s.ledBefore] = [...led].sort((a, b) => b[1] - a[1])[0] ?? [0, 0];

      const killAt = load.mark('broker killed');
      await cluster.kill(s.victim);
      const second = o.alsoAfterKill?.({ topo, load });
      const moved = await until(load, killAt, 60_000, async () => {
        const ps = await partitions();
        return !!ps && ps.length > 0 && ps.every((p) => p.leader >= 0 && p.leader !== s.victim);
      });
      s.leadersMovedS = moved;
      await second;
      // Down for the outage, and at least 5 s on two brokers once leadership has moved (fencing
      // takes longer on a busy machine), so the degraded cluster's service is measured.
      await sleep(
        Math.max(0, killAt + tm.outageMs - load.now(), DEGRADED_MS - (load.now() - killAt - moved * 1_000)),
      );

      const restartAt = load.mark('broker restarting');
      await cluster.restart(s.victim);
      s.restartS = (load.now() - restartAt) / 1_000;
      s.isrS = await until(load, restartAt, 120_000, async () => {
        const ps = await partitions();
        return !!ps && ps.length > 0 && ps.every((p) => p.isr.length === 3);
      });
      // Requests sent before the restart have their answers by now (the client's budget is 5 s).
      await sleep(Math.max(0, restartAt + 5_500 - load.now()));
      measure(s, load, killAt, restartAt);
    } finally {
      await ops.close();
    }
  },
});

/** Polls `check` every 200 ms; seconds from `from` (load time) until it held, NaN after `ms`. */
async function until(load: Load, from: number, ms: number, check: () => Promise<boolean>): Promise<number> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return (load.now() - from) / 1_000;
    await sleep(200);
  }
  return Number.NaN;
}

function measure(s: LeaderKill, load: Load, killAt: number, restartAt: number): void {
  const down = load.between(killAt, restartAt);
  const bad = down.filter(unhealthy);
  const firstBad = Math.min(...bad.map((x) => x.t));
  const lastBadDone = Math.max(...bad.map((x) => x.t + x.ms));
  s.pauseS = bad.length > 0 ? (lastBadDone - firstBad) / 1_000 : 0;
  s.recoverS = bad.length > 0 ? (lastBadDone - killAt) / 1_000 : 0;
  s.degraded202 = down.filter((x) => x.status === 202 && x.t > (bad.length ? lastBadDone : killAt)).length;
  s.rejoin5xx = load.between(restartAt).filter(unhealthy).length;
}

/** One line for the log and the report. */
export function describeLeaderKill(s: LeaderKill, cluster: PrivateKafkaCluster): string {
  const f = (x: number) => (Number.isNaN(x) ? 'n/a' : x.toFixed(1));
  return (
    `cluster up in ${f(cluster.startS)} s; killed kafka${s.victim} (led ${s.ledBefore}/6 partitions, ` +
    `replicas ${s.replicas.join(',')}); leaders moved after ${f(s.leadersMovedS)} s; 503 window ` +
    `${f(s.pauseS)} s, edge recovered ${f(s.recoverS)} s after the kill; ${s.degraded202} × 202 on two ` +
    `brokers; node restarted in ${f(s.restartS)} s, ISR 3 on every partition ${f(s.isrS)} s after ` +
    `the restart began; ${s.rejoin5xx} × 5xx during the rejoin`
  );
}
