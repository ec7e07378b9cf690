import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, Admin, INTERNAL_TOKEN, infra, issue, userIds } from '../integration/harness.js';
import { portFree, sleep, waitReady } from '../support/index.js';
import { ROOT, SERVICES, type Service } from './schema.js';

/**
 * The three images, as deployed: built from infra/docker/Dockerfile with podman (infra/docker/build,
 * on the local base image), run read-only as their non-root user on the host's network against the
 * shared local stack (this run's database, Redis db and topic prefix), driven through the
 * containerised gateway with the README's curl flow and the k6 smoke, then stopped with SIGTERM
 * (podman stop) while requests are in flight: no 5xx, every 202 a row, each container out with exit 0
 * within its drain and shutdown budget. docs/deploy.md; `pnpm test:deploy` runs it.
 */

const run = promisify(execFile);
const PODMAN = `${ROOT}/infra/docker/podman`;
const TAG = process.env.IMAGE_TAG ?? 'dev';
// Ports of the containers on the host's network: DEPLOY_PORT_BASE, +1, +2, +3
const BASE = Number(process.env.DEPLOY_PORT_BASE ?? 26_000);
const PORTS = { gateway: BASE, issuer: BASE + 1, persister: BASE + 2, metrics: BASE + 3 };
const SHUTDOWN_TIMEOUT_MS = 8_000;
const DRAIN_DELAY_MS = 1_500;
const NAME = (svc: Service) => `coupon-test-${svc}-${process.pid}`;
const url = (svc: Service) => `http://127.0.0.1:${PORTS[svc]}`;

async function podman(...args: string[]): Promise<string> {
  const { stdout } = await run(PODMAN, args, { maxBuffer: 64 * 1024 * 1024 });
  return stdout.trim();
}

/** Runs a command, its output passed through; resolves with its exit code and duration. */
function step(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ code: number; ms: number }> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: ROOT, env, stdio: ['ignore', 'inherit', 'inherit'] });
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code: code ?? 1, ms: performance.now() - t0 }));
  });
}

function env(svc: Service): Record<string, string> {
  const { REDIS_URL, DATABASE_URL, KAFKA_BROKERS, KAFKA_TOPIC_PREFIX } = infra();
  // HOST loopback: the host's network is shared with everyone on this machine
  const common = { PORT: String(PORTS[svc]), HOST: '127.0.0.1', LOG_LEVEL: 'info', REDIS_URL };
  const shutdown = { SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS) };
  if (svc === 'gateway') {
    return {
      ...common,
      ...shutdown,
      ISSUER_URL: url('issuer'),
      INTERNAL_TOKEN,
      ADMIN_TOKEN,
      METRICS_PORT: String(PORTS.metrics),
      DRAIN_DELAY_MS: String(DRAIN_DELAY_MS),
    };
  }
  const deps = { ...common, ...shutdown, DATABASE_URL, KAFKA_BROKERS, KAFKA_TOPIC_PREFIX };
  return svc === 'issuer' ? { ...deps, INTERNAL_TOKEN } : deps;
}

async function startContainer(svc: Service): Promise<void> {
  const vars = Object.entries(env(svc)).flatMap(([k, v]) => ['--env', `${k}=${v}`]);
  await podman(
    'run',
    '--detach',
    '--name',
    NAME(svc),
    '--network',
    'host',
    '--read-only',
    ...vars,
    `localhost/coupon-${svc}:${TAG}`,
  );
}

/** A container's /ready, failing at once when it stopped running. */
function containerReady(svc: Service, timeoutMs: number): Promise<void> {
  return waitReady(
    svc,
    url(svc),
    {
      gone: async () => {
        const state = await podman('inspect', '--format', '{{.State.Status}}', NAME(svc));
        return state === 'running' ? undefined : state;
      },
      tail: () => podman('logs', '--tail', '30', NAME(svc)),
    },
    timeoutMs,
  );
}

/**
 * SIGTERM (podman stop), then the exit; the container's exit code, its log, and the drain as the
 * service timed it: from its "shutdown started" line to its last "shutdown step done" (podman's own
 * overhead on a loaded machine is not the service's).
 */
async function stop(svc: Service): Promise<{ code: number; drainMs: number; log: string }> {
  // past 30 s podman would SIGKILL (exit 137); the budget asserted below is far shorter
  await podman('stop', '--time', '30', NAME(svc));
  const code = Number(await podman('inspect', '--format', '{{.State.ExitCode}}', NAME(svc)));
  const log = await run(PODMAN, ['logs', NAME(svc)], { maxBuffer: 64 * 1024 * 1024 }).then(
    (r) => r.stdout + r.stderr,
  );
  const lines = log
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { msg: string; time: string });
  const started = lines.find((l) => l.msg === 'shutdown started');
  const done = lines.filter((l) => l.msg === 'shutdown step done').at(-1);
  const drainMs = started && done ? Date.parse(done.time) - Date.parse(started.time) : Number.NaN;
  return { code, drainMs, log };
}

const built: Record<string, string> = {};
beforeAll(async () => {
  for (const p of Object.values(PORTS))
    expect(await portFree(p), `port ${p} in use (DEPLOY_PORT_BASE)`).toBe(true);
  // DEPLOY_BUILD=0: the images infra/docker/build made before, as they are
  if (process.env.DEPLOY_BUILD !== '0') {
    const b = await step(`${ROOT}/infra/docker/build`, []);
    expect(b.code, 'infra/docker/build').toBe(0);
    console.info(`images built in ${(b.ms / 1000).toFixed(1)} s`);
  }
  for (const svc of SERVICES)
    built[svc] = await podman('image', 'inspect', '--format', '{{.Size}}', `localhost/coupon-${svc}:${TAG}`);
  // the order the services come up in: the gateway checks the issuer in its /ready
  for (const svc of ['issuer', 'persister', 'gateway'] as const) {
    await startContainer(svc);
    await containerReady(svc, 60_000);
  }
}, 1_800_000);

afterAll(async () => {
  for (const svc of SERVICES) await podman('rm', '--force', '--time', '0', NAME(svc)).catch(() => undefined);
});

describe('container images, run as deployed against the local stack', () => {
  it('happy: each image runs as its non-root user on a read-only root, and its HEALTHCHECK passes', async () => {
    for (const svc of SERVICES) {
      expect(await podman('exec', NAME(svc), 'id', '-u'), svc).toBe('1000');
      await expect(podman('exec', NAME(svc), 'touch', '/app/x'), svc).rejects.toThrow(
        /Read-only file system/,
      );
      // the Dockerfile's health check, run by podman inside the container
      await expect(podman('healthcheck', 'run', NAME(svc)), svc).resolves.toBeDefined();
      console.info(`${svc}: ${(Number(built[svc]) / 1e6).toFixed(0)} MB`);
    }
  });

  it("happy: the README's curl flow through the containerised gateway ends as a row", async () => {
    const admin = new Admin(url('gateway'));
    const coupon = await admin.createCoupon(100);
    const [user] = userIds(1);
    const answer = await issue(url('gateway'), user as number, coupon.id);
    expect(answer.status).toBe(202);
    await expect
      .poll(
        async () => {
          const res = await fetch(`${url('gateway')}/coupons/${user}/issues/${coupon.id}`);
          return ((await res.json()) as { state: string }).state;
        },
        { timeout: 15_000, interval: 200 },
      )
      .toBe('ISSUED');
  }, 30_000);

  it('happy: the k6 smoke through the containerised gateway passes its thresholds', async () => {
    const k6 = `${process.env.STACK_HOME ?? `${ROOT}/.local`}/bin/k6`;
    if (!existsSync(k6)) expect((await step(`${ROOT}/infra/local/stack`, ['k6'])).code).toBe(0);
    const r = await step(k6, ['run', '--no-usage-report', '--quiet', `${ROOT}/loadtests/k6/smoke.js`], {
      ...process.env,
      BASE_URL: url('gateway'),
      ADMIN_TOKEN,
    });
    expect(r.code, 'k6 exit (99: a threshold failed)').toBe(0);
  }, 900_000);

  it('happy: SIGTERM under load: no 5xx, every 202 a row, each container drains and exits 0 within its budget', async () => {
    const admin = new Admin(url('gateway'));
    const coupon = await admin.createCoupon(100_000);
    const statuses: Record<string, number> = {};
    let refused = 0;
    let loading = true;
    let next = 1;
    // 16 clients in a loop, each a new user, until the gateway stops answering
    const clients = Array.from({ length: 16 }, async () => {
      while (loading) {
        const res = await fetch(`${url('gateway')}/coupons/${next++}/issue-async?couponId=${coupon.id}`, {
          method: 'POST',
        }).catch(() => undefined);
        if (!res) {
          refused += 1;
          await sleep(20);
          continue;
        }
        await res.arrayBuffer();
        statuses[res.status] = (statuses[res.status] ?? 0) + 1;
      }
    });
    await sleep(1_000);
    const gateway = await stop('gateway');
    loading = false;
    await Promise.all(clients);
    console.info(
      `gateway drained in ${gateway.drainMs} ms under load: ${JSON.stringify(statuses)}, ${refused} refused after close`,
    );

    expect(
      Object.keys(statuses).filter((s) => s >= '500'),
      JSON.stringify(statuses),
    ).toEqual([]);
    expect(statuses[202] ?? 0).toBeGreaterThan(0);
    for (const [svc, r] of [['gateway', gateway]] as const) {
      expect(r.code, `${svc} exit code\n${r.log.slice(-2000)}`).toBe(0);
      expect(r.drainMs, svc).toBeGreaterThanOrEqual(DRAIN_DELAY_MS);
      expect(r.drainMs, svc).toBeLessThan(DRAIN_DELAY_MS + SHUTDOWN_TIMEOUT_MS);
      expect(r.log).toContain('"msg":"shutdown started"');
      expect(r.log).not.toContain('shutdown deadline passed');
      expect(r.log).not.toContain('shutdown step failed');
    }

    // every 202 ends as a row, written by the containerised persister, before it stops too
    const accepted = statuses[202] ?? 0;
    await expect
      .poll(
        async () => {
          const res = await fetch(`${url('issuer')}/internal/coupons/${coupon.id}/stats`, {
            headers: { 'x-internal-token': INTERNAL_TOKEN },
          });
          return res.ok ? ((await res.json()) as { persisted: number }).persisted : -1;
        },
        { timeout: 20_000, interval: 250 },
      )
      .toBe(accepted);

    for (const svc of ['issuer', 'persister'] as const) {
      const r = await stop(svc);
      expect(r.code, `${svc} exit code\n${r.log.slice(-2000)}`).toBe(0);
      expect(r.drainMs, svc).toBeLessThan(SHUTDOWN_TIMEOUT_MS);
      expect(r.log).toContain('"msg":"shutdown started"');
      expect(r.log, svc).not.toContain('shutdown deadline passed');
      expect(r.log, svc).not.toContain('shutdown step failed');
    }
  }, 120_000);
});
