import { once } from 'node:events';
import { createServer, type Server } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * What the test projects share (tests/integration, tests/faults, tests/deploy). To wait for a state
 * that is asserted, use vitest's `expect.poll` (its defaults per project are in vitest.config.ts);
 * `waitUntil` below is for the waits a test reports on instead of failing.
 */

/** Node's own promise timer: `await sleep(ms)`. */
export { sleep };

/** Listens on a port the kernel picks on 127.0.0.1 and resolves with it. */
export async function listen(server: Server): Promise<number> {
  await once(server.listen(0, '127.0.0.1'), 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error(`not a TCP address: ${address}`);
  return address.port;
}

/** A port nobody listens on right now (the kernel's pick, released before use: reuse is rare). */
export async function freePort(): Promise<number> {
  const server = createServer();
  const port = await listen(server);
  server.close();
  await once(server, 'close');
  return port;
}

/** True when `port` on 127.0.0.1 can be bound now (for a process that needs a port of its own choosing). */
export async function portFree(port: number): Promise<boolean> {
  const server = createServer();
  try {
    await once(server.listen(port, '127.0.0.1'), 'listening');
  } catch {
    return false;
  }
  server.close();
  await once(server, 'close');
  return true;
}

/**
 * Waits until `check` holds or `timeoutMs` has passed, without failing: the caller goes on to account
 * for what it finds (the fault suite's drain and settle). Resolves whether the check held.
 */
export async function waitUntil(
  check: () => Promise<boolean>,
  timeoutMs: number,
  intervalMs = 250,
): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) return false;
    await sleep(intervalMs);
  }
  return true;
}

/** A process being started: how to tell that it is gone, and the end of its log for a failure message. */
export interface Starting {
  /** Why it is gone (exited, a container's state), or undefined while it runs. */
  gone(): string | undefined | Promise<string | undefined>;
  tail(): string | Promise<string>;
}

/**
 * Polls `${url}/ready` until it answers 200. Fails at once, with the log's tail, when the process is
 * gone, and after `timeoutMs` with the last answer and the tail.
 */
export async function waitReady(name: string, url: string, p: Starting, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < end) {
    const gone = await p.gone();
    if (gone !== undefined) throw new Error(`${name} ${gone} before ready:\n${await p.tail()}`);
    const res = await fetch(`${url}/ready`, { signal: AbortSignal.timeout(5_000) }).catch(() => undefined);
    if (res?.status === 200) return;
    last = res ? `${res.status} ${await res.text()}` : 'no answer';
    await sleep(200);
  }
  throw new Error(`${name} not ready after ${timeoutMs} ms (last: ${last}):\n${await p.tail()}`);
}
