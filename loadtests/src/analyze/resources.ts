/** CPU and memory of the processes under test and of the whole machine (the seed report's 3.3). */
import { mb, pct } from '../format.ts';
import { mean, type Scraped, within } from '../scraped.ts';
import type { Machine, ProcUsage, Signal, Window } from './types.ts';

/** CPU (% of one core) and RSS of every process during the load, busiest first, and the machine's. */
export function usage(
  scraped: Scraped,
  window: Window | undefined,
): { procs: ProcUsage[]; machine: Machine } {
  const procs: ProcUsage[] = [];
  for (const name of scraped.procs.keys()) {
    const cpu = within(scraped.procCpu(name), window);
    const rss = within(scraped.procRss(name), window);
    procs.push({
      name,
      cpuMean: mean(cpu),
      cpuPeak: scraped.max(cpu)?.v,
      rssPeakMb: scraped.max(rss.length > 0 ? rss : scraped.procRss(name))?.v,
    });
  }
  procs.sort((x, y) => (y.cpuMean ?? 0) - (x.cpuMean ?? 0));
  const busy = within(scraped.machineBusy(), window);
  // Whatever the machine spent outside the processes under test (other jobs on a shared box).
  const tracked = procs.reduce((a, p) => a + (p.cpuMean ?? 0), 0);
  const busyMean = mean(busy);
  const machine = {
    cores: scraped.cores,
    busyMean,
    busyPeak: scraped.max(busy)?.v,
    otherMean: busyMean === undefined ? undefined : Math.max(0, busyMean * scraped.cores - tracked),
  };
  return { procs, machine };
}

/** The processes that used the most CPU (at most six). */
export const topProcs = (procs: ProcUsage[]) => procs.filter((p) => p.cpuMean !== undefined).slice(0, 6);

export function resourceSignals(procs: ProcUsage[], machine: Machine): Signal[] {
  const signals: Signal[] = [];
  if (machine.busyMean !== undefined) {
    signals.push({
      name: `machine CPU busy (${machine.cores} cores), mean / peak`,
      value: `${pct(machine.busyMean)} / ${pct(machine.busyPeak)}`,
      source: '/proc/stat',
    });
  }
  if (machine.otherMean !== undefined)
    signals.push({
      name: 'CPU of processes outside the test (mean, % of one core)',
      value: pct(machine.otherMean),
      source: '/proc/stat minus the processes above',
    });
  for (const p of topProcs(procs))
    signals.push({
      name: `${p.name}: CPU mean / peak (% of one core), RSS peak`,
      value: `${pct(p.cpuMean)} / ${pct(p.cpuPeak)}, ${mb(p.rssPeakMb)}`,
      source: '/proc/<pid>/stat, status',
    });
  return signals;
}
