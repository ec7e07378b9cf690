import { readFileSync } from 'node:fs';
import { gatewayEnv } from '@coupon/gateway';
import { issuerEnv } from '@coupon/issuer';
import { persisterEnv } from '@coupon/persister';
import { describe, expect, it } from 'vitest';
import { COMPOSE_FILES, type ComposeService, interpolate, loadCompose } from './compose.js';
import { knownVariables, ROOT, type Service } from './schema.js';

/**
 * What can be checked of the compose files without a Docker engine (none runs here, and the engines'
 * images cannot be pulled): they parse, every service built from infra/docker/Dockerfile names a
 * service and its port the way the service's env schema does, its environment holds only variables
 * that schema knows and parses, the ports it publishes and calls are the ports the services listen
 * on, and its health check is the image's (GET /health on PORT). `docker compose up` itself is not
 * run here (docs/deploy.md, "Compose").
 */

const SCHEMAS = { gateway: gatewayEnv, issuer: issuerEnv, persister: persisterEnv };

function load(file: string): Record<string, ComposeService> {
  return loadCompose(file).services;
}

function apps(file: string): [string, ComposeService, Service][] {
  return Object.entries(load(file))
    .filter(([, s]) => s.build?.args?.SERVICE)
    .map(([name, s]) => [name, s, s.build?.args?.SERVICE as Service]);
}

const shell = {
  ADMIN_TOKEN: 'compose-admin-token',
  INTERNAL_TOKEN: 'compose-internal-token',
  AUTH_MODE: 'trusted-upstream',
};

describe.each(COMPOSE_FILES)('%s', (file) => {
  it('happy: parses, and builds each of the three services from the one Dockerfile', () => {
    const built = apps(file);
    expect(new Set(built.map(([, , svc]) => svc))).toEqual(new Set(['gateway', 'issuer', 'persister']));
    for (const [, s] of built) expect(s.build?.dockerfile).toBe('infra/docker/Dockerfile');
  });

  it('happy: every environment variable of a service is one its env schema knows, and the environment parses', () => {
    for (const [name, s, svc] of apps(file)) {
      const env = Object.fromEntries(
        Object.entries(s.environment ?? {}).map(([k, v]) => [k, interpolate(String(v ?? ''), shell)]),
      );
      const unknown = Object.keys(env).filter((k) => !knownVariables(svc).has(k));
      expect(unknown, `${file} ${name}`).toEqual([]);
      // as the image runs it: the Dockerfile sets PORT, HOST and METRICS_HOST
      const image = { PORT: s.build?.args?.PORT ?? '', HOST: '0.0.0.0', METRICS_HOST: '0.0.0.0' };
      const parsed = SCHEMAS[svc].safeParse({ ...image, ...env });
      expect(parsed.error?.issues ?? [], `${file} ${name}`).toEqual([]);
    }
  });

  it("happy: the build's PORT is the service's own default port, and the ports it publishes and calls match", () => {
    const services = load(file);
    const portOf = (svc: Service) => String(SCHEMAS[svc].parse({}).PORT);
    for (const [name, s, svc] of apps(file)) {
      expect(s.build?.args?.PORT, `${file} ${name}`).toBe(portOf(svc));
      for (const p of s.ports ?? []) {
        expect(interpolate(p, {}).split(':').at(-1), `${file} ${name} ports`).toBe(portOf(svc));
      }
      const issuerUrl = s.environment?.ISSUER_URL;
      if (issuerUrl) {
        const u = new URL(String(issuerUrl));
        expect(services[u.hostname]?.build?.args?.SERVICE, `${file} ${name} ISSUER_URL host`).toBe('issuer');
        expect(u.port).toBe(portOf('issuer'));
      }
    }
  });

  it("happy: the services' health check is the image's GET /health, and what waits on them waits for it", () => {
    const services = load(file);
    const dockerfile = readFileSync(`${ROOT}/infra/docker/Dockerfile`, 'utf8');
    expect(dockerfile).toMatch(/HEALTHCHECK[^\n]*\\\n\s+CMD[^\n]*\$\{process\.env\.PORT\}\/health/);
    for (const [name, s] of apps(file)) {
      // no override: the Dockerfile's HEALTHCHECK applies
      expect(s.healthcheck, `${file} ${name}`).toBeUndefined();
      // past SHUTDOWN_TIMEOUT_MS: the service's own deadline ends the drain, not SIGKILL
      const grace = Number(/^(\d+)s$/.exec(s.stop_grace_period ?? '')?.[1] ?? 0) * 1000;
      expect(grace, `${file} ${name} stop_grace_period`).toBeGreaterThan(
        SCHEMAS.gateway.parse({}).SHUTDOWN_TIMEOUT_MS,
      );
      for (const [dep, cond] of Object.entries(s.depends_on ?? {})) {
        expect(services[dep], `${file} ${name} depends on ${dep}`).toBeDefined();
        if (cond.condition === 'service_healthy' && services[dep]?.build) {
          expect(services[dep]?.healthcheck, `${file} ${dep}`).toBeUndefined();
        }
      }
    }
  });
});
