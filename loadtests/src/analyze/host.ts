/**
 * The host and its network from the node exporter (infra/local/stack up node-exporter), when
 * loadtests/run scraped it: CPU busy and pressure, load per core, memory available, and per interface
 * the bytes/s each way with their share of the configured link speed (link_speed_configured_bytes,
 * from LINK_SPEED_MBIT; the alert rules in infra/prometheus/rules/host.rules.yml use the same).
 */
import { pct } from '../format.ts';
import { type Point, type Scraped, within } from '../scraped.ts';
import { LIMITS } from '../targets.ts';
import type { Read, Signal, Window } from './types.ts';

/** The scrape target name loadtests/run gives the node exporter. */
export const NODE = 'node';
const SOURCE = 'node exporter';

/** Per-second rate of a counter between consecutive scrapes (resets skipped). */
export function rates(points: Point[]): Point[] {
  const out: Point[] = [];
  for (let i = 1; i < points.length; i++) {
    const a = points[i - 1];
    const b = points[i];
    if (!a || !b || b.t <= a.t || b.v < a.v) continue;
    out.push({ t: b.t, v: (b.v - a.v) / ((b.t - a.t) / 1000) });
  }
  return out;
}

const mean = (ps: Point[]) => (ps.length ? ps.reduce((a, p) => a + p.v, 0) / ps.length : undefined);
const peak = (ps: Point[]) => (ps.length ? Math.max(...ps.map((p) => p.v)) : undefined);
const mbps = (v: number | undefined) => (v === undefined ? 'n/a' : `${(v / 1e6).toFixed(2)} MB/s`);

/** Label values of one metric across the node's scrapes (devices, CPUs). */
function labelValues(m: Scraped, metric: string, label: string): string[] {
  const seen = new Set<string>();
  for (const x of m.scrapes(NODE))
    for (const s of x.samples)
      if (s.name === metric && s.labels[label] !== undefined) seen.add(s.labels[label]);
  return [...seen].sort();
}

export function host(m: Scraped, window: Window | undefined): Read {
  if (!m.services.has(NODE)) return { signals: [], findings: [] };
  const signals: Signal[] = [];
  const findings: string[] = [];
  const series = (name: string, filter: Record<string, string> = {}) => m.series(NODE, name, filter, window);
  const rate = (name: string, filter: Record<string, string> = {}) =>
    within(rates(m.series(NODE, name, filter)), window);

  const cores = labelValues(m, 'node_cpu_seconds_total', 'cpu').length;
  if (cores > 0) {
    const busy = rate('node_cpu_seconds_total', { mode: 'idle' }).map((p) => ({
      t: p.t,
      v: (1 - p.v / cores) * 100,
    }));
    const waiting = rate('node_pressure_cpu_waiting_seconds_total').map((p) => ({ t: p.t, v: p.v * 100 }));
    const load = series('node_load1').map((p) => ({ t: p.t, v: p.v / cores }));
    signals.push({
      name: `host CPU busy (${cores} cores), mean / peak; tasks waiting for a CPU (pressure), mean / peak`,
      value: `${pct(mean(busy))} / ${pct(peak(busy))}; ${pct(mean(waiting))} / ${pct(peak(waiting))}`,
      source: `${SOURCE}: node_cpu_seconds_total, node_pressure_cpu_waiting_seconds_total`,
    });
    if (load.length)
      signals.push({
        name: 'host load average (1 min) per core, peak',
        value: (peak(load) ?? 0).toFixed(2),
        source: `${SOURCE}: node_load1`,
      });
  }

  const total = peak(series('node_memory_MemTotal_bytes'));
  const avail = series('node_memory_MemAvailable_bytes');
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

  for (const device of labelValues(m, 'node_network_receive_bytes_total', 'device')) {
    const rx = peak(rate('node_network_receive_bytes_total', { device }));
    const tx = peak(rate('node_network_transmit_bytes_total', { device }));
    const link = peak(series('link_speed_configured_bytes', { device }));
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
