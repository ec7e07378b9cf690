/**
 * The host and its network from the node exporter (infra/local/stack up node-exporter), which the
 * stack's Prometheus scrapes: CPU busy and pressure, load per core, memory available, and per
 * interface the bytes/s each way with their share of the configured link speed
 * (link_speed_configured_bytes, from LINK_SPEED_MBIT; infra/prometheus/rules/host.rules.yml uses the same).
 */
import { pct } from '../format.ts';
import { mean, type Prom, peak, within } from '../promql.ts';
import { LIMITS } from '../targets.ts';
import type { Read, Signal, Window } from './types.ts';

const SOURCE = 'node exporter';
const mbps = (v: number | undefined) => (v === undefined ? 'n/a' : `${(v / 1e6).toFixed(2)} MB/s`);

export function host(m: Prom, window: Window | undefined): Read {
  const cores = m.value('cores');
  if (cores === undefined) return { signals: [], findings: [] };
  const signals: Signal[] = [];
  const findings: string[] = [];
  const at = (name: string, match: Record<string, string> = {}) => within(m.points(name, match), window);

  const busy = at('hostBusy');
  const waiting = at('hostWaiting');
  signals.push({
    name: `host CPU busy (${cores} cores), mean / peak; tasks waiting for a CPU (pressure), mean / peak`,
    value: `${pct(mean(busy))} / ${pct(peak(busy)?.v)}; ${pct(mean(waiting))} / ${pct(peak(waiting)?.v)}`,
    source: `${SOURCE}: node_cpu_seconds_total, node_pressure_cpu_waiting_seconds_total`,
  });
  const load = peak(at('hostLoadPerCore'));
  if (load)
    signals.push({
      name: 'host load average (1 min) per core, peak',
      value: load.v.toFixed(2),
      source: `${SOURCE}: node_load1`,
    });

  const total = m.value('memTotal');
  const avail = at('memAvailable');
  if (total && avail.length) {
    const lowest = Math.min(...avail.map((p) => p.v));
    const share = (lowest / total) * 100;
    signals.push({
      name: 'host memory available, lowest',
      value: `${pct(share)} (${(lowest / 2 ** 20).toFixed(0)} of ${(total / 2 ** 20).toFixed(0)} MB)`,
      source: `${SOURCE}: node_memory_MemAvailable_bytes / MemTotal_bytes`,
    });
    if (share < LIMITS.memoryLowPct)
      findings.push(
        `**Memory ran low on the host**: ${pct(share)} available at its lowest (the HostMemoryLow alert's threshold is ${LIMITS.memoryLowPct} %).`,
      );
  }

  for (const device of [...m.by('rx', 'device').keys()].sort()) {
    const rx = peak(at('rx', { device }))?.v;
    const tx = peak(at('tx', { device }))?.v;
    const link = m.value('link', { device });
    const use = link ? (Math.max(rx ?? 0, tx ?? 0) / link) * 100 : undefined;
    if (!link && !rx && !tx) continue; // an idle interface with no configured speed says nothing
    signals.push({
      name: `${device}: receive / transmit peak${link ? `, peak share of its ${((link * 8) / 1e6).toFixed(0)} Mbit/s link` : ''}`,
      value: `${mbps(rx)} / ${mbps(tx)}${use === undefined ? '' : `, ${use.toFixed(1)} %`}`,
      source: `${SOURCE}: node_network_*_bytes_total${link ? ', link_speed_configured_bytes' : ''}`,
    });
    if (use !== undefined && use > LIMITS.linkUtilisationPct)
      findings.push(
        `**${device} ran above ${LIMITS.linkUtilisationPct} % of its configured link** (${use.toFixed(0)} % at peak): the network, not the code, sets the ceiling; check LINK_SPEED_MBIT and what sends.`,
      );
  }
  return { signals, findings };
}
