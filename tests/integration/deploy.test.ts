import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, waitReady } from '../support/index.js';
import { ADMIN_TOKEN, Admin, INTERNAL_TOKEN, infra, issue, userIds } from './harness.js';

/**
 * Per-service deploys: each service is built with scripts/deploy-service into its own folder outside
 * the repository (so nothing resolves from the workspace), started there as a child process with
 * nothing but its environment variables, and must become ready and shut down cleanly on SIGTERM.
 */

const SERVICES = ['issuer', 'persister', 'gateway'] as const;
type Service = (typeof SERVICES)[number];

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SHUTDOWN_TIMEOUT_MS = 8_000;
const DEPLOY_TIMEOUT_MS = 130_000;

interface Deployed {
  dir: string;
  port: number;
  url: string;
  child: ChildProcess;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output: string[];
}

let base: string;
const deployed = {} as Record<Service, Deployed>;
let deploying: ChildProcess | undefined;
let deployExited: Promise<unknown> = Promise.resolve();

/** The script runs turbo and pnpm below it: its own process group, so a timeout ends all of them. */
function killGroup(child: ChildProcess): void {
  try {
    if (child.pid) process.kill(-child.pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** Runs scripts/deploy-service; resolves with its output, rejects with it on failure or timeout. */
function deployService(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(join(ROOT, 'scripts/deploy-service'), args, {
      cwd: ROOT,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    deploying = child;
    deployExited = new Promise((r) => child.once('exit', r));
    let out = '';
    child.stdout?.on('data', (b: Buffer) => {
      out += b.toString();
    });
    child.stderr?.on('data', (b: Buffer) => {
      out += b.toString();
    });
    const timer = setTimeout(() => {
      killGroup(child);
      reject(new Error(`deploy-service did not finish in ${DEPLOY_TIMEOUT_MS} ms:\n${out}`));
    }, DEPLOY_TIMEOUT_MS);
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      deploying = undefined;
      if (code === 0) resolve(out);
      else reject(new Error(`deploy-service exited with ${code ?? signal}:\n${out}`));
    });
  });
}

function tail(d: Deployed): string {
  return d.output.join('').split('\n').slice(-30).join('\n');
}

/** Starts dist/main.js from the deploy folder with a clean environment: only PATH, node.env and what we pass. */
async function start(svc: Service, env: Record<string, string>): Promise<Deployed> {
  const dir = join(base, svc);
  const port = await freePort();
  // As the Dockerfile starts it: the heap caps from the node.env the deploy copied in.
  const child = spawn(process.execPath, ['--env-file=node.env', 'dist/main.js'], {
    cwd: dir,
    env: {
      PATH: process.env.PATH ?? '',
      PORT: String(port),
      METRICS_PORT: '0', // the gateway's metrics listener: never the fixed 9464 in a test
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  child.stdout?.on('data', (b: Buffer) => output.push(b.toString()));
  child.stderr?.on('data', (b: Buffer) => output.push(b.toString()));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const d: Deployed = { dir, port, url: `http://127.0.0.1:${port}`, child, exit, output };
  deployed[svc] = d;
  return d;
}

/** /ready of a deployed service, failing at once with the log tail if the process exits. */
function deployedReady(svc: Service, timeoutMs: number): Promise<void> {
  const d = deployed[svc];
  const gone = () =>
    d.child.exitCode === null && d.child.signalCode === null
      ? undefined
      : `exited (${d.child.exitCode ?? d.child.signalCode})`;
  return waitReady(svc, d.url, { gone, tail: () => tail(d) }, timeoutMs);
}

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'coupon-deploy-'));
  // One call: turbo builds the shared libraries once, then the three deploys run in parallel.
  const out = await deployService(SERVICES.flatMap((svc) => [svc, join(base, svc)]));
  console.info(
    out
      .split('\n')
      .filter((l) => l.startsWith('deploy-service:'))
      .join('\n'),
  );

  const { REDIS_URL, DATABASE_URL, KAFKA_BROKERS, KAFKA_TOPIC_PREFIX } = infra();
  const deps = { REDIS_URL, DATABASE_URL, KAFKA_BROKERS, KAFKA_TOPIC_PREFIX };
  // MIGRATE_ON_START stays at its default (true): it reads libs/db's drizzle folder from the deploy.
  const issuer = await start('issuer', { ...deps, INTERNAL_TOKEN });
  await start('persister', deps);
  await start('gateway', {
    REDIS_URL,
    INTERNAL_TOKEN,
    ADMIN_TOKEN,
    ISSUER_URL: issuer.url,
  });
}, 150_000);

afterAll(async () => {
  if (deploying) killGroup(deploying);
  await deployExited; // before removing the folders it writes to
  for (const d of Object.values(deployed)) {
    if (d.child.exitCode === null && d.child.signalCode === null) d.child.kill('SIGKILL');
  }
  await Promise.all(Object.values(deployed).map((d) => d.exit));
  if (base) await rm(base, { recursive: true, force: true });
});

describe('per-service deploys: each folder starts alone from its environment', () => {
  for (const svc of SERVICES) {
    it(`happy: ${svc} answers /health and /ready from its deploy folder`, async () => {
      await deployedReady(svc, 45_000);
      const health = await fetch(`${deployed[svc].url}/health`);
      expect(health.status).toBe(200);
      expect(await health.json()).toEqual({ status: 'ok' });
    }, 50_000);
  }

  it('happy: a coupon issued through the deployed gateway ends as a row written by the deployed persister', async () => {
    const admin = new Admin(deployed.gateway.url);
    const coupon = await admin.createCoupon(1);
    const [user] = userIds(1);
    const answer = await issue(deployed.gateway.url, user!, coupon.id);
    expect(answer.status).toBe(202);
    await expect
      .poll(() => admin.stats(coupon.id), { timeout: 15_000 })
      .toMatchObject({ admitted: 1, persisted: 1 });
  }, 20_000);

  // gateway first: it stops taking work before the issuer it calls goes away
  for (const svc of ['gateway', 'issuer', 'persister'] as const) {
    it(
      `happy: ${svc} exits 0 on SIGTERM within the shutdown deadline, every step done`,
      async () => {
        const d = deployed[svc];
        const t0 = performance.now();
        d.child.kill('SIGTERM');
        const { code, signal } = await d.exit;
        const ms = performance.now() - t0;
        const log = d.output.join('');
        expect({ code, signal }, tail(d)).toEqual({ code: 0, signal: null });
        expect(ms, tail(d)).toBeLessThan(SHUTDOWN_TIMEOUT_MS);
        expect(log).toContain('"msg":"shutdown started"');
        expect(log, tail(d)).not.toContain('shutdown deadline passed');
        expect(log, tail(d)).not.toContain('shutdown step failed');
      },
      SHUTDOWN_TIMEOUT_MS + 5_000,
    );
  }
});
