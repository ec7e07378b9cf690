import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { stack } from './private-stack.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const read = (p: string) => readFileSync(join(ROOT, p), 'utf8');

/** This suite's ports (the helper's range), one set: the monitoring tests do not run concurrently. */
export const MONITORING_PORTS = {
  prometheus: 27090,
  alertmanager: 27094,
  nodeExporter: 27100,
  /** Nothing listens here: the process exporter's job stays down (no alert reads it). */
  processExporter: 27256,
  webhook: 27097,
};

/**
 * 'short': 1 s scrapes and evaluations, every rule's `for` and Alertmanager's waits cut to seconds
 * (CI); 'production': infra/prometheus and infra/alertmanager as they are, only the targets moved.
 */
export type Timings = 'short' | 'production';

export const SHORT = { scrape: '1s', evaluation: '1s', for: '3s', groupWait: '1s', groupInterval: '2s' };

export interface MonitoringOptions {
  /** job name of infra/prometheus/prometheus.yml → host:port this test's process serves /metrics on. */
  targets: Record<string, string>;
  /** The receivers' URLs (ALERTMANAGER_WEBHOOK_URL, ALERTMANAGER_WARNING_WEBHOOK_URL). */
  webhook: { critical: string; warning: string };
  timings: Timings;
}

type Yaml = Record<string, unknown>;
interface Route extends Yaml {
  routes?: Route[];
}

/** The rule files with every `for` shortened (short timings), as absolute paths. */
function ruleFiles(home: string, files: string[], timings: Timings): string[] {
  return files.map((f) => {
    const path = join(ROOT, 'infra', 'prometheus', f);
    if (timings === 'production') return path;
    const doc = parse(readFileSync(path, 'utf8')) as { groups: { rules: Yaml[] }[] };
    for (const g of doc.groups) for (const r of g.rules) if (r.for !== undefined) r.for = SHORT.for;
    const out = join(home, f.replaceAll('/', '-'));
    writeFileSync(out, stringify(doc));
    return out;
  });
}

/** infra/prometheus/prometheus.yml with this test's targets and Alertmanager (and short intervals). */
function prometheusConfig(home: string, o: MonitoringOptions, nodeExporter: string): string {
  const doc = parse(read('infra/prometheus/prometheus.yml')) as {
    global: Yaml;
    rule_files: string[];
    alerting: Yaml;
    scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[];
  };
  const targets: Record<string, string> = {
    ...o.targets,
    node: nodeExporter,
    process: `127.0.0.1:${MONITORING_PORTS.processExporter}`,
  };
  const jobs = doc.scrape_configs.map((j) => j.job_name).sort();
  if (jobs.join() !== Object.keys(targets).sort().join())
    throw new Error(
      `prometheus.yml scrapes ${jobs.join(', ')}; the test has targets for ${Object.keys(targets)}`,
    );
  for (const j of doc.scrape_configs) j.static_configs = [{ targets: [targets[j.job_name] as string] }];
  doc.alerting = {
    alertmanagers: [{ static_configs: [{ targets: [`127.0.0.1:${MONITORING_PORTS.alertmanager}`] }] }],
  };
  doc.rule_files = ruleFiles(home, doc.rule_files, o.timings);
  if (o.timings === 'short')
    doc.global = {
      scrape_interval: SHORT.scrape,
      scrape_timeout: SHORT.scrape,
      evaluation_interval: SHORT.evaluation,
    };
  const out = join(home, 'prometheus.yml');
  writeFileSync(out, stringify(doc));
  return out;
}

/** infra/alertmanager/alertmanager.yml, its waits cut to seconds for short timings. */
function alertmanagerConfig(home: string, timings: Timings): string {
  const path = join(ROOT, 'infra', 'alertmanager', 'alertmanager.yml');
  if (timings === 'production') return path;
  const doc = parse(readFileSync(path, 'utf8')) as { route: Route };
  const shorten = (r: Route) => {
    r.group_wait = SHORT.groupWait;
    r.group_interval = SHORT.groupInterval;
    for (const c of r.routes ?? []) shorten(c);
  };
  shorten(doc.route);
  const out = join(home, 'alertmanager.yml');
  // The stack replaces the receivers' placeholder URL: keep its "# critical" marker on the first.
  const text = stringify(doc).replace(/^(\s*- url: \S+)$/m, '$1 # critical');
  writeFileSync(out, text);
  return out;
}

/** One alert as Alertmanager's API v2 lists it. */
export interface AmAlert {
  labels: Record<string, string>;
  status: { state: string; inhibitedBy: string[]; silencedBy: string[] };
}

/**
 * Prometheus, Alertmanager and the node exporter as the stack runs them (`infra/local/stack up
 * prometheus alertmanager node-exporter`: stack.d/alerting.sh), on a temporary STACK_HOME and
 * MONITORING_PORTS, with the repository's configuration pointed at this test's processes.
 */
export class PrivateMonitoring {
  readonly home = mkdtempSync(join(tmpdir(), 'coupon-monitoring-'));
  readonly prometheus = `http://127.0.0.1:${MONITORING_PORTS.prometheus}`;
  readonly alertmanager = `http://127.0.0.1:${MONITORING_PORTS.alertmanager}`;

  private constructor(
    private readonly env: Record<string, string>,
    /** The generated configuration files. */
    private readonly configDir: string,
  ) {}

  static async start(o: MonitoringOptions): Promise<PrivateMonitoring> {
    const home = mkdtempSync(join(tmpdir(), 'coupon-monitoring-config-'));
    const env = {
      PROMETHEUS_PORT: String(MONITORING_PORTS.prometheus),
      ALERTMANAGER_PORT: String(MONITORING_PORTS.alertmanager),
      NODE_EXPORTER_PORT: String(MONITORING_PORTS.nodeExporter),
      PROMETHEUS_CONFIG: prometheusConfig(home, o, `127.0.0.1:${MONITORING_PORTS.nodeExporter}`),
      ALERTMANAGER_CONFIG: alertmanagerConfig(home, o.timings),
      ALERTMANAGER_WEBHOOK_URL: o.webhook.critical,
      ALERTMANAGER_WARNING_WEBHOOK_URL: o.webhook.warning,
    };
    const m = new PrivateMonitoring(env, home);
    await m.stack('up', 'node-exporter', 'alertmanager', 'prometheus');
    return m;
  }

  private stack(...args: string[]): Promise<string> {
    return stack(
      {
        home: this.home,
        env: this.env,
        unset: ['PROMETHEUS_URL', 'ALERTMANAGER_URL', 'NODE_EXPORTER_URL'],
        timeoutMs: 300_000, // a fresh machine installs the Debian packages first
        context: () => this.log('prometheus') + this.log('alertmanager'),
      },
      ...args,
    );
  }

  log(svc: string, lines = 20): string {
    try {
      const text = readFileSync(join(this.home, 'log', `${svc}.log`), 'utf8');
      return `\n--- ${svc}.log\n${text.trimEnd().split('\n').slice(-lines).join('\n')}`;
    } catch {
      return '';
    }
  }

  /** GET /api/v1/query: the result, or the error Prometheus gave (an invalid expression). */
  async query(expr: string): Promise<{ error?: string; result: unknown[] }> {
    const res = await fetch(`${this.prometheus}/api/v1/query?query=${encodeURIComponent(expr)}`, {
      signal: AbortSignal.timeout(10_000),
    });
    const body = (await res.json()) as { status: string; error?: string; data?: { result: unknown[] } };
    if (body.status !== 'success') return { error: body.error ?? `HTTP ${res.status}`, result: [] };
    return { result: body.data?.result ?? [] };
  }

  /** Posts alerts to Alertmanager as Prometheus does (API v2); endsAt in the past resolves them. */
  async postAlerts(alerts: { labels: Record<string, string>; endsAt?: string }[]): Promise<void> {
    const res = await fetch(`${this.alertmanager}/api/v2/alerts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(alerts.map((a) => ({ annotations: { summary: 'posted by the test' }, ...a }))),
    });
    if (!res.ok) throw new Error(`POST /api/v2/alerts: ${res.status} ${await res.text()}`);
  }

  async alerts(): Promise<AmAlert[]> {
    const res = await fetch(`${this.alertmanager}/api/v2/alerts`, { signal: AbortSignal.timeout(10_000) });
    return (await res.json()) as AmAlert[];
  }

  async stop(): Promise<void> {
    try {
      await this.stack('down', 'prometheus', 'alertmanager', 'node-exporter');
    } finally {
      rmSync(this.home, { recursive: true, force: true });
      rmSync(this.configDir, { recursive: true, force: true });
    }
  }
}
