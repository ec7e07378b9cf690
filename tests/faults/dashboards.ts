import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sleep } from '../support/index.js';

const DIR = fileURLToPath(new URL('../../infra/grafana/dashboards', import.meta.url));

/** One PromQL expression of a dashboard, with where it comes from. */
export interface DashboardQuery {
  dashboard: string;
  panel: string;
  refId: string;
  expr: string;
}

interface Panel {
  title?: string;
  panels?: Panel[];
  targets?: { expr?: string; refId?: string }[];
}

interface Variable {
  name: string;
  current?: { value?: string | string[] };
  options?: { value?: string }[];
  query?: string | { query?: string };
}

interface Dashboard {
  title: string;
  panels?: Panel[];
  templating?: { list?: Variable[] };
}

/** Every dashboard JSON in infra/grafana/dashboards. */
export function dashboards(): { file: string; json: Dashboard }[] {
  return readdirSync(DIR)
    .filter((f) => f.endsWith('.json'))
    .map((file) => ({ file, json: JSON.parse(readFileSync(join(DIR, file), 'utf8')) as Dashboard }));
}

/** A variable's value as Grafana would substitute it: its current value, else its first option, else any. */
function currentValue(v: Variable): string {
  const cur = v.current?.value;
  if (Array.isArray(cur)) return cur.length === 1 ? (cur[0] as string) : `(${cur.join('|')})`;
  if (cur !== undefined && cur !== '$__all') return cur;
  return v.options?.[0]?.value ?? '.*';
}

/**
 * Substitutes Grafana's variables: the dashboard's own (templating) and the built-in intervals, given
 * the scrape interval in seconds ($__rate_interval is max($__interval + scrape, 4 × scrape)).
 */
export function substitute(expr: string, vars: Variable[], scrapeS: number): string {
  const builtin: Record<string, string> = {
    __rate_interval: `${4 * scrapeS}s`,
    __interval: `${scrapeS}s`,
    __range: '5m',
    __range_s: '300',
  };
  const values = new Map<string, string>(Object.entries(builtin));
  for (const v of vars) values.set(v.name, currentValue(v));
  return expr.replace(
    /\$\{(\w+)(?::\w+)?\}|\[\[(\w+)\]\]|\$(\w+)/g,
    (m, a, b, c) => values.get(a ?? b ?? c) ?? m,
  );
}

/** Every expression of every panel (rows' nested panels included), variables substituted. */
export function dashboardQueries(scrapeS: number): DashboardQuery[] {
  const out: DashboardQuery[] = [];
  for (const { file, json } of dashboards()) {
    const vars = json.templating?.list ?? [];
    const walk = (panels: Panel[] | undefined) => {
      for (const p of panels ?? []) {
        for (const t of p.targets ?? [])
          if (t.expr)
            out.push({
              dashboard: file,
              panel: p.title ?? '(untitled)',
              refId: t.refId ?? '?',
              expr: substitute(t.expr, vars, scrapeS),
            });
        walk(p.panels);
      }
    };
    walk(json.panels);
  }
  return out;
}

/** What one expression gave against a live Prometheus. */
export interface QueryCheck extends DashboardQuery {
  error?: string;
  series: number;
}

/**
 * Runs every dashboard expression; `query` is Prometheus's instant query API. An expression with no
 * data is asked again each second until `retryMs` has passed: on a busy machine a late scrape leaves a
 * short rate() window with one sample for a moment. An invalid one is not retried.
 */
export async function checkDashboards(
  query: (expr: string) => Promise<{ error?: string; result: unknown[] }>,
  scrapeS: number,
  retryMs = 0,
): Promise<QueryCheck[]> {
  const run = (q: DashboardQuery) =>
    query(q.expr).then((r): QueryCheck => ({ ...q, error: r.error, series: r.result.length }));
  let checks = await Promise.all(dashboardQueries(scrapeS).map(run));
  const until = Date.now() + retryMs;
  while (Date.now() < until && checks.some((c) => !c.error && c.series === 0)) {
    await sleep(1_000);
    checks = await Promise.all(checks.map((c) => (!c.error && c.series === 0 ? run(c) : c)));
  }
  return checks;
}

/** The failures, one line each: an invalid expression, one with no data, or a variable left unsubstituted. */
export function dashboardFailures(checks: QueryCheck[]): string[] {
  return checks
    .filter((c) => c.error || c.series === 0 || c.expr.includes('$'))
    .map(
      (c) =>
        `${c.dashboard} "${c.panel}" ${c.refId}: ${c.error ? `invalid: ${c.error}` : c.series === 0 ? 'no data' : 'variable left'} — ${c.expr}`,
    );
}
