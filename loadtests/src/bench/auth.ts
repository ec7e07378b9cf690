/**
 * Steps 2b and 3b: the accepted and sold-out paths again, through a second gateway with
 * AUTH_MODE=jwt (HS256) started by the bench beside the running one, in front of the same issuer:
 * every request a new user with a token the gateway has never seen, so each accepted request costs
 * one signature check (the cache of verified tokens never hits: the worst case for verification). On
 * the sold-out path the edge answers before the token is checked (docs/decisions/0017), except the
 * one request per edge lifetime that asks the issuer again.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { createCoupon, issue, type Stats, waitPersisted } from './admin.ts';
import { DRY, log, plan, ROOT, SECONDS, sleep } from './config.ts';
import { cpuPerRequest, cpuSnapshot } from './procs.ts';
import { BENCH_JWT_SECRET, writeTokens } from './tokens.ts';
import { type Step, wrk } from './wrk.ts';

/** Enough tokens that no step runs out (a quiet machine answers about 25,000 sold-out requests a second). */
const TOKENS = 400_000;

export interface AuthSteps {
  accepted: Step & { couponId: number; stats: Stats };
  soldOut: Step & { couponId: number };
}

export async function authPaths(dir: string): Promise<AuthSteps> {
  const warm = join(dir, 'tokens-warm.txt');
  const accepted = join(dir, 'tokens-accepted.txt');
  const soldOut = join(dir, 'tokens-sold-out.txt');
  if (DRY) plan(`write ${TOKENS} HS256 tokens of new users to ${dir}/tokens-*.txt`);
  else {
    await writeTokens(warm, 5_000_000_000, 60_000);
    await writeTokens(accepted, 6_000_000_000, TOKENS);
    await writeTokens(soldOut, 7_000_000_000, TOKENS);
  }
  const gw = await startAuthGateway();
  try {
    const a = await createCoupon(10_000_000, 'accepted path, auth on');
    await wrk(gw.url, 2, [String(a.id), warm], 'issue-auth.lua'); // warm-up
    await waitPersisted(a.id, 60_000);
    let before = await cpuSnapshot(gw.pids);
    const ra = await wrk(gw.url, SECONDS, [String(a.id), accepted], 'issue-auth.lua');
    const sa = await waitPersisted(a.id, 120_000);
    const acc = {
      ...ra,
      cpuMs: cpuPerRequest(before, await cpuSnapshot(gw.pids), ra.requests),
      couponId: a.id,
      stats: sa,
    };

    const s = await createCoupon(1, 'sold-out path, auth on');
    await issue(1, s.id); // takes the only coupon (through the gateway without auth)
    await wrk(gw.url, 2, [String(s.id), warm], 'issue-auth.lua');
    await waitPersisted(s.id, 30_000);
    before = await cpuSnapshot(gw.pids);
    const rs = await wrk(gw.url, SECONDS, [String(s.id), soldOut], 'issue-auth.lua');
    const so = {
      ...rs,
      cpuMs: cpuPerRequest(before, await cpuSnapshot(gw.pids), rs.requests),
      couponId: s.id,
    };
    return { accepted: acc, soldOut: so };
  } finally {
    await gw.stop();
  }
}

/** A free loopback port (released again at once: the gateway binds it next). */
function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.once('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => ok(port));
    });
  });
}

interface AuthGateway {
  url: string;
  /** Its pid as `gateway`, so the CPU of the steps counts it instead of the gateway without auth. */
  pids: Record<string, number>;
  stop(): Promise<void>;
}

async function startAuthGateway(): Promise<AuthGateway> {
  const env = {
    AUTH_MODE: 'jwt',
    AUTH_JWT_SECRET: BENCH_JWT_SECRET,
    HOST: '127.0.0.1',
    METRICS_PORT: '0',
    RATE_LIMIT_PER_SEC: '1000000',
    RATE_LIMIT_BURST: '1000000',
    LOG_LEVEL: 'warn',
    ISSUER_URL: process.env.ISSUER_URL ?? `http://127.0.0.1:${process.env.ISSUER_PORT ?? 3001}`,
  };
  const main = join(ROOT, 'services/gateway/dist/main.js');
  if (DRY) {
    plan(`AUTH_MODE=jwt ... node ${main} (a second gateway on a free port)`);
    return { url: 'http://127.0.0.1:0', pids: {}, stop: async () => undefined };
  }
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, [`--env-file=${join(ROOT, 'infra/node.env')}`, main], {
    env: { ...process.env, ...env, PORT: String(port) },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode !== null) return;
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  };
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) throw new Error(`the gateway with auth exited (${child.exitCode})`);
    const ok = await fetch(`${url}/ready`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) {
      log(`gateway with AUTH_MODE=jwt (HS256) on ${url}`);
      return { url, pids: child.pid ? { gateway: child.pid } : {}, stop };
    }
    await sleep(100);
  }
  await stop();
  throw new Error('the gateway with auth did not become ready in 10 s');
}
