import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { infra } from './harness.js';

// The BUILT services started as a new user would, with no tokens set: beyond loopback they refuse
// the development tokens before binding anything or touching a dependency.

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Runs services/<svc>/dist/main.js with only PATH and `env`; its exit code and output. */
function run(svc: 'gateway' | 'issuer', env: Record<string, string>) {
  const child = spawn(process.execPath, [`services/${svc}/dist/main.js`], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'silent', PORT: '0', METRICS_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (b: Buffer) => {
    output += b.toString();
  });
  child.stderr.on('data', (b: Buffer) => {
    output += b.toString();
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  return new Promise<{ code: number | null; output: string }>((resolve) =>
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    }),
  );
}

describe('security: no development token beyond loopback', () => {
  it('security: the gateway with HOST=0.0.0.0 and the development admin token refuses, naming ADMIN_TOKEN', async () => {
    const { code, output } = await run('gateway', {
      HOST: '0.0.0.0',
      INTERNAL_TOKEN: 'a-secret-of-mine',
      REDIS_URL: infra().REDIS_URL,
    });
    expect(code).toBe(1);
    expect(output).toContain(
      "ADMIN_TOKEN: is the development token 'dev-admin-token' (published in the source) while HOST=0.0.0.0",
    );
    expect(output).not.toContain('INTERNAL_TOKEN: is the development token');
  });

  it('security: the gateway with no tokens at all names both variables', async () => {
    const { code, output } = await run('gateway', { HOST: '0.0.0.0' });
    expect(code).toBe(1);
    expect(output).toMatch(
      /ADMIN_TOKEN: is the development token[^\n]*\n\s+INTERNAL_TOKEN: is the development token/,
    );
  });

  it('security: the issuer with HOST=0.0.0.0 and the development internal token refuses, naming INTERNAL_TOKEN', async () => {
    const { code, output } = await run('issuer', { HOST: '0.0.0.0', DATABASE_URL: infra().DATABASE_URL });
    expect(code).toBe(1);
    expect(output).toContain("INTERNAL_TOKEN: is the development token 'dev-internal-token'");
  });
});
