import type { DbPool } from '@coupon/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testPool } from '../integration/harness.js';
import { checkDashboards, dashboardFailures, type QueryCheck, substitute } from './dashboards.js';
import { MONITORING_PORTS, PrivateMonitoring, SHORT, type Timings } from './private-monitoring.js';
import type { ServiceProcess } from './processes.js';
import { type FaultRow, type FaultSystem, faultTable, runChecked } from './run.js';
import { type HookAlert, WebhookReceiver } from './webhook.js';

/**
 * Alerts that reach someone: Prometheus, Alertmanager and the node exporter as the stack runs them
 * (private STACK_HOME, this suite's ports), scraping a topology under load. While the load runs,
 * every dashboard expression is queried; then the persister is stopped, and the test waits for
 * ServiceDown to reach the critical receiver of its own webhook, checks that the persister's other
 * alerts are inhibited while a warning of another service is routed to the warning receiver, starts
 * the persister again and waits for the resolution. Short timings in CI (rule `for`s and
 * Alertmanager's waits of seconds); `pnpm faults` runs the repository's configuration unchanged, so
 * its delay is the one an operator gets.
 */
const timings: Timings = process.env.FAULTS_LONG === '1' ? 'production' : 'short';
const SCRAPE_S = timings === 'short' ? Number.parseInt(SHORT.scrape, 10) : 5;
// Production: up to a scrape (5 s) + an evaluation (15 s) + `for` 1m + group_wait 10 s, with room.
const ALERT_WAIT_MS = timings === 'short' ? 30_000 : 180_000;

interface AlertSystem extends FaultSystem {
  persister: ServiceProcess;
  dashboards: QueryCheck[];
  /** Persister stopped → ServiceDown at the webhook, and how it splits. */
  firingS: number;
  /** Stopped → the alert's startsAt (Prometheus: scrape, evaluation, `for`). */
  detectS: number;
  /** startsAt → received (Prometheus sends, Alertmanager groups and posts). */
  dispatchS: number;
  /** Persister ready again → resolved at the webhook. */
  resolvedS: number;
  firing?: HookAlert;
  firingReceiver: string;
  warningReceiver: string;
  inhibited: { state: string; inhibitedBy: number }[];
  /** Notifications of the inhibited alert received while ServiceDown fired. */
  leaked: number;
  /** Seconds since the test began at each step (where a slow run spends its time). */
  steps: Record<string, number>;
}

const SYMPTOM = 'FaultSuiteSymptom';
const t0 = Date.now();
const steps: Record<string, number> = {};
const step = (name: string) => {
  steps[name] = Math.round((Date.now() - t0) / 100) / 10;
};
const rows: FaultRow[] = [];
let pool: DbPool;
let hook: WebhookReceiver;
let mon: PrivateMonitoring | undefined;

beforeAll(async () => {
  pool = testPool();
  hook = await WebhookReceiver.start(MONITORING_PORTS.webhook);
});
afterAll(async () => {
  if (rows.length) console.log(`fault table (alerts, ${timings} timings)\n${faultTable(rows)}`);
  await mon?.stop();
  await hook?.close();
  await pool?.end();
});

const isDown = (a: HookAlert) => a.labels.alertname === 'ServiceDown' && a.labels.service === 'persister';

describe('alerts reach a webhook', () => {
  let system: AlertSystem | undefined;

  it('persister stopped under load: ServiceDown reaches the critical receiver, its other alerts are inhibited, the resolution follows', async () => {
    const r = await runChecked<AlertSystem>(
      {
        name: `alerts: persister stopped (${timings} timings)`,
        rate: 100,
        // Long enough before the fault for every rate() of the dashboards to have its samples.
        beforeMs: Math.max(6_000, 6 * SCRAPE_S * 1_000),
        afterMs: 3_000,
        // Sold out within the first seconds: the dashboards' 4xx panels have their 409s.
        smallQuantity: 20,
        build: async (t) => {
          step('build');
          const issuer = await t.issuer();
          const persister = await t.persister();
          const gateway = await t.gateway('gateway', issuer.url);
          mon = await PrivateMonitoring.start({
            targets: {
              gateway: `127.0.0.1:${gateway.metricsPort}`,
              issuer: `127.0.0.1:${issuer.port}`,
              persister: `127.0.0.1:${persister.port}`,
            },
            webhook: { critical: hook.url('/critical'), warning: hook.url('/warning') },
            timings,
          });
          step('monitoring up');
          return {
            gateways: [gateway],
            persister,
            dashboards: [],
            firingS: Number.NaN,
            detectS: Number.NaN,
            dispatchS: Number.NaN,
            resolvedS: Number.NaN,
            firingReceiver: '',
            warningReceiver: '',
            inhibited: [],
            leaked: 0,
            steps,
          };
        },
        inject: async (s) => {
          const m = mon as PrivateMonitoring;
          step('fault');
          s.dashboards = await checkDashboards((e) => m.query(e), SCRAPE_S, 20_000);
          step('dashboards queried');

          const stoppedAt = Date.now();
          await s.persister.stop();
          step('persister stopped');
          // Began after the stop: on a busy machine a late scrape can make a short-`for` alert fire before.
          const ours = (a: HookAlert) => isDown(a) && Date.parse(a.startsAt) > stoppedAt;
          const firing = await hook.waitFor(
            (a) => a.status === 'firing' && ours(a),
            ALERT_WAIT_MS,
            'ServiceDown firing',
          );
          s.firing = firing.body.alerts.find(ours);
          s.firingReceiver = `${firing.body.receiver} ${firing.path}`;
          s.firingS = (firing.at - stoppedAt) / 1_000;
          const startsAt = Date.parse(s.firing?.startsAt ?? '');
          s.detectS = (startsAt - stoppedAt) / 1_000;
          s.dispatchS = (firing.at - startsAt) / 1_000;
          step('firing received');

          // A symptom of the service that is down, and the same one of a service that is up.
          await m.postAlerts([
            { labels: { alertname: SYMPTOM, severity: 'warning', service: 'persister' } },
            { labels: { alertname: SYMPTOM, severity: 'warning', service: 'issuer' } },
          ]);
          const warning = await hook.waitFor(
            (a) => a.labels.alertname === SYMPTOM && a.labels.service === 'issuer',
            ALERT_WAIT_MS,
            `${SYMPTOM} of the issuer`,
          );
          s.warningReceiver = `${warning.body.receiver} ${warning.path}`;
          step('warning received');
          s.inhibited = (await m.alerts())
            .filter((a) => a.labels.alertname === SYMPTOM && a.labels.service === 'persister')
            .map((a) => ({ state: a.status.state, inhibitedBy: a.status.inhibitedBy.length }));

          const end = new Date(Date.now() - 1_000).toISOString();
          await m.postAlerts([
            { labels: { alertname: SYMPTOM, severity: 'warning', service: 'persister' }, endsAt: end },
            { labels: { alertname: SYMPTOM, severity: 'warning', service: 'issuer' }, endsAt: end },
          ]);
          s.leaked = hook.received.filter((n) =>
            n.body.alerts.some((a) => a.labels.alertname === SYMPTOM && a.labels.service === 'persister'),
          ).length;

          await s.persister.start();
          const readyAt = Date.now();
          step('persister ready');
          const resolved = await hook.waitFor(
            (a) => a.status === 'resolved' && isDown(a) && a.startsAt === s.firing?.startsAt,
            ALERT_WAIT_MS,
            'ServiceDown resolved',
          );
          s.resolvedS = (resolved.at - readyAt) / 1_000;
          step('resolved received');
        },
      },
      pool,
      rows,
    );
    step('settled');
    system = r.system;
    const s = r.system;
    console.log(
      `[alerts] ${timings} timings: persister stopped → ServiceDown at the webhook ${s.firingS.toFixed(1)} s ` +
        `(detected and past its \`for\` ${s.detectS.toFixed(1)} s, then Alertmanager ${s.dispatchS.toFixed(1)} s); ` +
        `persister ready → resolved ${s.resolvedS.toFixed(1)} s; inhibited: ${JSON.stringify(s.inhibited)}; ` +
        `steps (s): ${JSON.stringify(s.steps)}; ` +
        `notifications: ${hook.summary()}`,
    );
    expect(s.firing?.labels).toMatchObject({ severity: 'critical', job: 'persister', service: 'persister' });
    expect(s.firing?.annotations.summary).toMatch(/^persister \(127\.0\.0\.1:\d+\) cannot be scraped$/);
    expect(s.firingReceiver).toBe('critical /critical');
    expect(s.warningReceiver).toBe('warning /warning');
    expect(s.inhibited).toEqual([{ state: 'suppressed', inhibitedBy: 1 }]);
    expect(s.leaked).toBe(0);
    if (timings === 'short') expect(s.firingS).toBeLessThan(20);
  });

  it('every dashboard expression is valid and returns data during the load', () => {
    expect(system?.dashboards.length ?? 0).toBeGreaterThan(20);
    expect(dashboardFailures(system?.dashboards ?? [])).toEqual([]);
  });

  it('error: the dashboards check flags an invalid expression, one with no data, and a variable left', () => {
    const vars = [
      { name: 'svc', current: { value: 'gateway' } },
      { name: 'route', current: { value: ['/a', '/b'] } },
      { name: 'job', options: [{ value: 'issuer' }] },
    ];
    expect(
      // biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's ${var} syntax, not a template.
      substitute('rate(x{service="$svc",route=~"${route}",job="[[job]]"}[$__rate_interval]) $nope', vars, 5),
    ).toBe('rate(x{service="gateway",route=~"(/a|/b)",job="issuer"}[20s]) $nope');
    const base = { dashboard: 'd.json', panel: 'p', refId: 'A' };
    expect(
      dashboardFailures([
        { ...base, expr: 'up', series: 3 },
        { ...base, expr: 'sum(', series: 0, error: 'parse error' },
        { ...base, expr: 'absent_metric', series: 0 },
        { ...base, expr: 'x[$nope]', series: 1 },
      ]),
    ).toEqual([
      'd.json "p" A: invalid: parse error — sum(',
      'd.json "p" A: no data — absent_metric',
      'd.json "p" A: variable left — x[$nope]',
    ]);
  });
});
