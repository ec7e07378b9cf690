/** CPU and memory of the processes under test and of the whole machine (the seed report's 3.3). */
import { mb, pct } from '../format.ts';
import { mean, type Prom, peak, within } from '../promql.ts';
import type { Machine, ProcUsage, Signal, Window } from './types.ts';

/** CPU (% of one core) and RSS of every process during the load, busiest first, and the machine's. */
export function usage(prom: Prom, window: Window | undefined): { procs: ProcUsage[]; machine: Machine } {
  const procs: ProcUsage[] = [];
  const rssOf = prom.by('procRss', 'groupname');
  for (const [name, points] of prom.by('procCpu', 'groupname')) {
    const cpu = within(points, window);
    const rss = rssOf.get(name) ?? [];
    const rssLoaded = within(rss, window);
    procs.push({
      name,
      cpuMean: mean(cpu),
      cpuPeak: peak(cpu)?.v,
      rssPeakMb: peak(rssLoaded.length > 0 ? rssLoaded : rss)?.v,
    });
  }
  procs.sort((x, y) => (y.cpuMean ?? 0) - (x.cpuMean ?? 0));
  const busy = within(prom.points('hostBusy'), window);
  const cores = prom.value('cores') ?? 1;
  // Whatever the machine spent outside the processes under test (other jobs on a shared box).
  const tracked = procs.reduce((a, p) => a + (p.cpuMean ?? 0), 0);
  const busyMean = mean(busy);
  const machine = {
    cores,
    busyMean,
    busyPeak: peak(busy)?.v,
    otherMean: busyMean === undefined ? undefined : Math.max(0, busyMean * cores - tracked),
  };
  return { procs, machine };
}

/** The processes that used the most CPU (at most six). */
export const topProcs = (procs: ProcUsage[]) => procs.filter((p) => p.cpuMean !== undefined).slice(0, 6);

export function resourceSignals(procs: ProcUsage[], machine: Machine): Signal[] {
  const signals: Signal[] = [];
  if (machine.otherMean !== undefined)
    signals.push({
      name: 'CPU of processes outside the test (mean, % of one core)',
      value: pct(machine.otherMean),
      source: 'node exporter minus the processes below',
    });
  for (const p of topProcs(procs))
    signals.push({
      name: `${p.name}: CPU mean / peak (% of one core), RSS peak`,
      value: `${pct(p.cpuMean)} / ${pct(p.cpuPeak)}, ${mb(p.rssPeakMb)}`,
      source: 'namedprocess_namegroup_* (process exporter)',
    });
  return signals;
}
