/** Charts over time, rendered to SVG on the server by vega-lite + vega (no browser, no canvas). */
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { Analysis } from './analyze.ts';
import { OUTCOMES, type Outcome } from './k6data.ts';

export interface Chart {
  id: string;
  title: string;
  svg: string;
}

type Row = Record<string, number | string>;

async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

const WIDTH = 760;
const HEIGHT = 220;

function lines(
  title: string,
  data: Row[],
  y: string,
  opts: { log?: boolean; stacked?: boolean } = {},
): TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    width: WIDTH,
    height: HEIGHT,
    background: 'white',
    data: { values: data },
    mark: opts.stacked
      ? { type: 'area', interpolate: 'step-after' }
      : { type: 'line', interpolate: 'monotone', strokeWidth: 1.5 },
    encoding: {
      x: { field: 't', type: 'quantitative', title: 'seconds since the load started' },
      y: {
        field: 'v',
        type: 'quantitative',
        title: y,
        stack: opts.stacked ? 'zero' : null,
        scale: opts.log ? { type: 'log' } : { zero: true },
      },
      color: { field: 'series', type: 'nominal', title: null, legend: { orient: 'top' } },
    },
  };
}

export async function charts(a: Analysis): Promise<Chart[]> {
  const out: Chart[] = [];
  const t0 = a.window?.[0] ?? (a.seconds[0]?.t ?? 0) * 1000;
  const rel = (tMs: number) => Math.round((tMs - t0) / 100) / 10;
  const add = async (id: string, title: string, spec: TopLevelSpec) =>
    out.push({ id, title, svg: await renderSvg(spec) });

  if (a.seconds.length > 0) {
    const rows: Row[] = [];
    for (const s of a.seconds) {
      for (const [k, label] of Object.entries(OUTCOMES) as [Outcome, string][]) {
        const v = s.outcomes[k];
        if (v) rows.push({ t: rel(s.t * 1000), series: label, v });
      }
    }
    await add(
      'throughput',
      'Requests per second by answer (k6)',
      lines('Requests per second by answer (k6)', rows, 'req/s', { stacked: true }),
    );

    const lat: Row[] = [];
    for (const s of a.seconds) {
      for (const [series, v] of [
        ['p50', s.p50],
        ['p95', s.p95],
        ['p99', s.p99],
        ['max', s.max],
      ] as const) {
        if (v !== undefined && v > 0) lat.push({ t: rel(s.t * 1000), series, v });
      }
    }
    await add(
      'latency',
      'http_req_duration per second (ms, log scale)',
      lines('http_req_duration per second (ms, log scale)', lat, 'ms', { log: true }),
    );
  }

  const lag = a.scraped.series('persister', 'kafka_consumer_lag');
  const inserted = a.scraped.series('persister', 'persister_rows_inserted_total');
  if (lag.length > 0) {
    const rows: Row[] = lag.map((p) => ({ t: rel(p.t), series: 'consumer lag (messages)', v: p.v }));
    for (let i = 1; i < inserted.length; i++) {
      const p = inserted[i];
      const q = inserted[i - 1];
      if (p && q && p.t > q.t)
        rows.push({
          t: rel(p.t),
          series: 'rows inserted per second',
          v: Math.max(0, ((p.v - q.v) * 1000) / (p.t - q.t)),
        });
    }
    await add(
      'lag',
      'Kafka consumer lag and persister rows/s',
      lines('Kafka consumer lag and persister rows/s', rows, 'messages, rows/s'),
    );
  }

  const cpu: Row[] = [];
  for (const name of a.scraped.procs.keys())
    for (const p of a.scraped.procCpu(name)) cpu.push({ t: rel(p.t), series: name, v: p.v });
  for (const p of a.scraped.machineBusy())
    cpu.push({ t: rel(p.t), series: `machine (% of ${a.scraped.cores} cores)`, v: p.v });
  if (cpu.length > 0)
    await add('cpu', 'CPU per process (% of one core)', lines('CPU per process (% of one core)', cpu, '%'));

  const rss: Row[] = [];
  for (const name of a.scraped.procs.keys())
    for (const p of a.scraped.procRss(name)) rss.push({ t: rel(p.t), series: name, v: p.v });
  if (rss.length > 0)
    await add(
      'rss',
      'Resident memory per process (MB)',
      lines('Resident memory per process (MB)', rss, 'MB'),
    );
  return out;
}
