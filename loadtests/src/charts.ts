/** Charts over time, rendered to SVG on the server by vega-lite + vega (no browser, no canvas). */
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { k6PerSecond } from './analyze/read.ts';
import type { Analysis } from './analyze.ts';
import { OUTCOMES, type Outcome } from './k6data.ts';
import type { Point } from './promql.ts';

export interface Chart {
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
  const t0 = a.window?.[0] ?? a.prom.r.start * 1000;
  const rel = (tMs: number) => Math.round((tMs - t0) / 100) / 10;
  const rows = (series: string, ps: Point[]): Row[] => ps.map((p) => ({ t: rel(p.t), series, v: p.v }));
  const add = async (title: string, data: Row[], y: string, opts?: { log?: boolean; stacked?: boolean }) => {
    if (data.length > 0) out.push({ title, svg: await renderSvg(lines(title, data, y, opts)) });
  };
  const p = a.prom;

  await add(
    'Requests per second by answer (k6)',
    (Object.entries(OUTCOMES) as [Outcome, string][]).flatMap(([k, label]) =>
      rows(
        label,
        k6PerSecond(p.points(k)).filter((x) => x.v > 0),
      ),
    ),
    'req/s',
    { stacked: true },
  );
  await add(
    'http_req_duration since the start of the run (k6 trend stats, ms, log scale)',
    [...p.by('k6Latency', '__name__')].flatMap(([name, ps]) =>
      rows(
        name.replace(/^k6_http_req_duration_/, ''),
        ps.filter((x) => x.v > 0).map((x) => ({ t: x.t, v: x.v * 1000 })),
      ),
    ),
    'ms',
    { log: true },
  );
  if (p.has('lag'))
    await add(
      'Kafka consumer lag and persister rows/s',
      [
        ...rows('consumer lag (messages)', p.points('lag')),
        ...rows('rows inserted per second', p.points('rowsPerSecond')),
      ],
      'messages, rows/s',
    );
  const cores = p.value('cores');
  await add(
    'CPU per process (% of one core)',
    [
      ...[...p.by('procCpu', 'groupname')].flatMap(([name, ps]) => rows(name, ps)),
      ...rows(`machine (% of ${cores ?? '?'} cores)`, p.points('hostBusy')),
    ],
    '%',
  );
  await add(
    'Resident memory per process (MB)',
    [...p.by('procRss', 'groupname')].flatMap(([name, ps]) => rows(name, ps)),
    'MB',
  );
  return out;
}
