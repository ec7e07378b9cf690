/** Step 1: a bare node:http server (src/hello.ts) under wrk: the ceiling of one Node process here. */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { DRY, plan, ROOT, SECONDS } from './config.ts';
import { cpuPerRequest, cpuSnapshot } from './procs.ts';
import { type Step, wrk } from './wrk.ts';

export async function helloBaseline(): Promise<Step> {
  const server = await startHello();
  try {
    await wrk(server.url, 2, ['1', '1']); // warm-up
    const extra: Record<string, number> = server.pid ? { hello: server.pid } : {};
    const before = await cpuSnapshot(extra);
    const r = await wrk(server.url, SECONDS, ['1', '1']);
    const cpuMs = cpuPerRequest(before, await cpuSnapshot(extra), r.requests);
    return { ...r, cpuMs: { hello: cpuMs.hello ?? Number.NaN } };
  } finally {
    server.stop();
  }
}

/** Starts src/hello.ts on a free loopback port (it prints the port). */
async function startHello(): Promise<{ url: string; pid?: number; stop: () => void }> {
  const script = join(ROOT, 'loadtests/src/hello.ts');
  if (DRY) {
    plan(`node ${script} (prints its port; "0" below)`);
    return { url: 'http://127.0.0.1:0', stop: () => undefined };
  }
  const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const stop = () => child.kill('SIGTERM');
  try {
    const port = await new Promise<number>((ok, fail) => {
      const rl = createInterface({ input: child.stdout });
      rl.once('line', (l) => ok(Number(l)));
      child.once('exit', (code) => fail(new Error(`hello server exited (${code})`)));
    });
    return { url: `http://127.0.0.1:${port}`, pid: child.pid, stop };
  } catch (err) {
    stop();
    throw err;
  }
}
