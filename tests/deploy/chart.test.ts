import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { gatewayEnv } from '@coupon/gateway';
import { issuerEnv } from '@coupon/issuer';
import { persisterEnv } from '@coupon/persister';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { type System, startSystem } from '../integration/harness.js';
import { knownVariables, ROOT, SERVICES, type Service } from './schema.js';

/**
 * The Helm chart against the services it deploys (no cluster runs here; infra/helm/check lints it and
 * validates the rendered manifests against the Kubernetes schemas): every variable it sets is one the
 * service's env schema knows and the whole environment parses, every probe path and the scrape path is
 * a route the real service answers, the termination grace covers the drain and the shutdown deadline,
 * and the persister never outnumbers the topic's partitions.
 */

const CHART = `${ROOT}/infra/helm/coupon`;
const HELM = `${ROOT}/.local/bin/helm`;
const SCHEMAS = { gateway: gatewayEnv, issuer: issuerEnv, persister: persisterEnv };
const VALUES = readdirSync(`${CHART}/ci`).filter((f) => f.endsWith('-values.yaml'));

interface K8sObject {
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  // biome-ignore lint/suspicious/noExplicitAny: rendered manifests, checked field by field below
  spec: any;
}

function render(values: string, ...set: string[]): K8sObject[] {
  const args = [
    'template',
    'coupon',
    CHART,
    '-f',
    `${CHART}/ci/${values}`,
    ...set.flatMap((s) => ['--set', s]),
  ];
  const out = execFileSync(HELM, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return parseAllDocuments(out)
    .map((d) => d.toJS() as K8sObject)
    .filter(Boolean);
}

const component = (o: K8sObject) => o.metadata.labels?.['app.kubernetes.io/component'] as Service;
const deployments = (objs: K8sObject[]) => objs.filter((o) => o.kind === 'Deployment');

let sys: System;
beforeAll(async () => {
  // helm, kubeconform and the schemas, built once into .local (scripts/test runs infra/helm/check first)
  if (!existsSync(HELM)) {
    const r = spawnSync(`${ROOT}/infra/helm/check`, ['tools'], { stdio: 'inherit', timeout: 900_000 });
    expect(r.status).toBe(0);
  }
  sys = await startSystem();
}, 900_000);
afterAll(async () => {
  await sys?.stop();
});

describe.each(VALUES)('chart rendered with ci/%s', (values) => {
  const ciValues = parse(readFileSync(`${CHART}/ci/${values}`, 'utf8'));

  it('happy: one Deployment per service, every variable it sets known by that service, the environment parsing', () => {
    const objs = render(values);
    expect(deployments(objs).map(component).sort()).toEqual([...SERVICES].sort());
    for (const d of deployments(objs)) {
      const svc = component(d);
      const [c] = d.spec.template.spec.containers;
      const env: { name: string; value?: string; valueFrom?: { secretKeyRef: { key: string } } }[] = c.env;
      const names = env.map((e) => e.name);
      expect(
        names.filter((n) => !knownVariables(svc).has(n)),
        svc,
      ).toEqual([]);
      expect(new Set(names).size, `${svc}: a variable set twice`).toBe(names.length);
      // tokens and the database URL only from the Secret, never a literal
      for (const e of env.filter((e) => ['ADMIN_TOKEN', 'INTERNAL_TOKEN', 'DATABASE_URL'].includes(e.name))) {
        expect(e.value, `${svc} ${e.name}`).toBeUndefined();
        expect(e.valueFrom?.secretKeyRef.key).toBe(e.name);
      }
      const fromSecret = (key: string) => `secret-${key.toLowerCase()}-for-the-test`;
      const vars = Object.fromEntries(
        env.map((e) => [
          e.name,
          e.valueFrom
            ? e.name === 'DATABASE_URL'
              ? 'mysql://u:p@mysql:3306/coupon'
              : fromSecret(e.name)
            : e.value,
        ]),
      );
      const parsed = SCHEMAS[svc].safeParse(vars);
      expect(parsed.error?.issues ?? [], svc).toEqual([]);
      expect(c.ports[0]).toMatchObject({ name: 'http', containerPort: Number(vars.PORT) });
    }
  });

  it('happy: every probe and scrape path is a route the running service answers', async () => {
    const urls: Record<Service, string> = {
      gateway: sys.gateway.url,
      issuer: `http://127.0.0.1:${sys.issuer.port}`,
      persister: `http://127.0.0.1:${sys.persister?.port}`,
    };
    for (const d of deployments(render(values))) {
      const svc = component(d);
      const [c] = d.spec.template.spec.containers;
      expect(c.readinessProbe.httpGet).toEqual({ path: '/ready', port: 'http' });
      expect(c.livenessProbe.httpGet).toEqual({ path: '/health', port: 'http' });
      for (const probe of [c.startupProbe, c.readinessProbe, c.livenessProbe]) {
        const res = await fetch(`${urls[svc]}${probe.httpGet.path}`);
        expect(res.status, `${svc} ${probe.httpGet.path}`).toBe(200);
      }
      const ann = d.spec.template.metadata.annotations ?? {};
      expect(ann['prometheus.io/scrape']).toBe('true');
      // the gateway's /metrics is on its own listener (METRICS_PORT), the others' on PORT
      const metricsVar = svc === 'gateway' ? 'METRICS_PORT' : 'PORT';
      const port = c.env.find((e: { name: string }) => e.name === metricsVar).value;
      expect(ann['prometheus.io/port'], svc).toBe(port);
      const metricsUrl = svc === 'gateway' ? sys.gateway.metricsUrl.replace(/\/metrics$/, '') : urls[svc];
      const res = await fetch(`${metricsUrl}${ann['prometheus.io/path']}`);
      expect(res.status, `${svc} ${ann['prometheus.io/path']}`).toBe(200);
      expect(await res.text()).toContain('# HELP');
    }
  });

  it('happy: the termination grace covers the drain (DRAIN_DELAY_MS or preStop) and SHUTDOWN_TIMEOUT_MS', () => {
    for (const d of deployments(render(values))) {
      const svc = component(d);
      const pod = d.spec.template.spec;
      const [c] = pod.containers;
      const env = Object.fromEntries(c.env.map((e: { name: string; value?: string }) => [e.name, e.value]));
      const drainMs = Number(env.DRAIN_DELAY_MS ?? 0) + (c.lifecycle?.preStop?.sleep?.seconds ?? 0) * 1000;
      if (svc !== 'persister') expect(drainMs, `${svc} drains before it stops`).toBeGreaterThan(0);
      // the gateway drains in-process (readiness 503, Connection: close); a preStop would add to it
      if (svc === 'gateway') expect(c.lifecycle).toBeUndefined();
      const needS = (drainMs + Number(env.SHUTDOWN_TIMEOUT_MS)) / 1000;
      expect(pod.terminationGracePeriodSeconds, svc).toBeGreaterThan(needS);
      expect(pod.terminationGracePeriodSeconds, svc).toBeLessThanOrEqual(needS + 10);
    }
  });

  it('happy: PodDisruptionBudgets for all three, autoscalers for gateway and issuer, selectors that match', () => {
    const objs = render(values);
    const labels = new Map(deployments(objs).map((d) => [d.metadata.name, d.spec.template.metadata.labels]));
    const pdbs = objs.filter((o) => o.kind === 'PodDisruptionBudget');
    expect(pdbs.map(component).sort()).toEqual([...SERVICES].sort());
    for (const p of pdbs) expect(labels.get(p.metadata.name)).toMatchObject(p.spec.selector.matchLabels);
    const hpas = objs.filter((o) => o.kind === 'HorizontalPodAutoscaler');
    const autoscaled = ['gateway', 'issuer'].filter((s) => ciValues?.[s]?.autoscaling?.enabled !== false);
    expect(hpas.map(component).sort()).toEqual(autoscaled);
    for (const h of hpas) {
      expect([...labels.keys()]).toContain(h.spec.scaleTargetRef.name);
      const d = deployments(objs).find((x) => x.metadata.name === h.spec.scaleTargetRef.name);
      expect(d?.spec.replicas, 'replicas left to the autoscaler').toBeUndefined();
    }
    for (const s of objs.filter((o) => o.kind === 'Service')) {
      expect(labels.get(s.metadata.name)).toMatchObject(s.spec.selector);
    }
  });
});

describe('chart guards', () => {
  it('error: more persisters than the topic has partitions do not render', () => {
    const r = spawnSync(
      HELM,
      ['template', 'coupon', CHART, '-f', `${CHART}/ci/default-values.yaml`, '--set', 'persister.replicas=7'],
      { encoding: 'utf8' },
    );
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('persister.replicas (7) exceeds kafka.partitions (6)');
    const objs = render('default-values.yaml', 'persister.replicas=6');
    const persister = deployments(objs).find((d) => component(d) === 'persister');
    expect(persister?.spec.replicas).toBe(6);
  });

  it('error: without a Secret to read the tokens from, the chart does not render', () => {
    const r = spawnSync(HELM, ['template', 'coupon', CHART], { encoding: 'utf8' });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('secrets: set existingSecret');
  });
});
