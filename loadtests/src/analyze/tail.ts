/** The headline finding: where k6's p99 was spent, and whether the machine's CPU was the limit. */
import { ms, pct, secs } from '../format.ts';
import { LIMITS, TARGETS } from '../targets.ts';
import { stat } from './latency.ts';
import { topProcs } from './resources.ts';
import type { Runtime } from './runtime.ts';
import type { ServerLatency } from './server.ts';
import type { LatencyRow, Machine, ProcUsage } from './types.ts';

interface TailInput {
  latency: LatencyRow[];
  server: ServerLatency;
  worstLoop: Runtime['worstLoop'];
  procs: ProcUsage[];
  machine: Machine;
  isSeed: boolean;
}

export function tailFinding(x: TailInput): string[] {
  const p99 = stat(x.latency, 'p99');
  if (p99 === undefined) return [];
  const saturated = (x.machine.busyPeak ?? 0) >= LIMITS.cpuSaturatedPct;
  const loop = x.worstLoop;
  const loopText = loop ? ` Worst event-loop lag p99: ${loop.svc} ${secs(loop.v)}.` : '';
  const other = x.machine.otherMean ?? 0;
  const otherText =
    other >= LIMITS.otherCpuPct
      ? ` Processes outside the test used ${pct(other)} of a core on average: the machine was shared, so these figures are pessimistic; rerun on a quiet machine.`
      : '';
  return [
    `**p99 ${ms(p99)}, max ${ms(stat(x.latency, 'max'))}${x.isSeed ? ` (targets ${TARGETS.p99} ms and ${TARGETS.max} ms)` : ''}.** ${where(p99, x.server)}${cpuText(x.machine, x.procs)}${loopText}` +
      otherText +
      (saturated
        ? ` **CPU is the bottleneck:** load generator, three Node services, Redis, Kafka and MariaDB share ${x.machine.cores} cores.`
        : ''),
  ];
}

/** Queueing before the handler, inside the gateway, or in the issuer: from the services' histograms. */
function where(p99: number, s: ServerLatency): string {
  const { gatewayP99: gw, issuerP99: issuer } = s;
  if (gw === undefined)
    return 'The services export no request histogram, so the tail cannot be split between queueing and handling.';
  if (gw * 1000 < p99 / 2)
    return (
      `The gateway's handler measured a p99 of ${secs(gw)}, far below k6's ${ms(p99)}: the tail is spent before the handler runs ` +
      '(requests waiting in the socket backlog and the event loop while the process waits for a core), not in Redis, Kafka or MySQL.'
    );
  if (issuer !== undefined && issuer < gw / 2)
    return (
      `The gateway's handler measured a p99 of ${secs(gw)} but the issuer behind it only ${secs(issuer)}: requests wait inside the gateway ` +
      '(for one of its ISSUER_CONNECTIONS keep-alive connections, or for its event loop), not in Redis or Kafka.'
    );
  return (
    `The gateway's handler measured a p99 of ${secs(gw)} and the issuer ${secs(issuer)}, close to k6's ${ms(p99)}: the tail is in the issuer ` +
    `(Redis gate and the Kafka acknowledgement; Kafka send p99 ${secs(s.producerP99)}).`
  );
}

function cpuText(machine: Machine, procs: ProcUsage[]): string {
  if (machine.busyPeak === undefined) return '';
  return (
    ` The ${machine.cores} cores were ${pct(machine.busyMean)} busy on average and ${pct(machine.busyPeak)} at the worst second; ` +
    `the largest consumers were ${topProcs(procs)
      .map((p) => `${p.name} ${pct(p.cpuMean)}`)
      .join(', ')} (mean, % of one core).`
  );
}
