import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Hono } from 'hono';
import { afterEach, describe, expect, it } from 'vitest';
import type { Env } from './http.js';
import { closeServer, listen } from './serve.js';

/**
 * The drain a load balancer needs from a server going away: answers say `Connection: close` while
 * draining, a request in flight at close is answered, idle keep-alive sockets end with a FIN (not
 * a reset), and close() resolves without waiting for the keep-alive timeout.
 */
let draining = false;
const servers: Array<Awaited<ReturnType<typeof listen>>> = [];
afterEach(async () => {
  draining = false;
  await Promise.all(servers.splice(0).map((s) => closeServer(s)));
});

async function start() {
  const app = new Hono<Env>();
  app.get('/fast', (c) => c.text('fast'));
  app.get('/slow', async (c) => {
    await sleep(300);
    return c.text('slow');
  });
  const server = await listen(app, 0, '127.0.0.1', { draining: () => draining });
  servers.push(server);
  return { server, port: (server.address() as AddressInfo).port };
}

interface Answer {
  status: number;
  connection: string | undefined;
  body: string;
  socket: Socket;
}

function get(port: number, path: string, agent: http.Agent): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent }, (res) => {
      let body = '';
      res.on('data', (d) => {
        body += d;
      });
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          connection: res.headers.connection,
          body,
          socket: req.socket as Socket,
        }),
      );
    });
    req.on('error', reject);
  });
}

/** Resolves with whether the socket ended in error (a reset) once it closes. */
const closed = (s: Socket) => new Promise<boolean>((r) => s.once('close', r));

describe('listen + closeServer: drain', () => {
  it('happy: keep-alive while serving; Connection: close on every answer while draining', async () => {
    const { port } = await start();
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const before = await get(port, '/fast', agent);
    expect(before.connection).toBe('keep-alive');
    draining = true;
    const during = await get(port, '/fast', agent);
    expect([during.status, during.body, during.connection]).toEqual([200, 'fast', 'close']);
    // The server ends that socket after the answer: the client does not reuse it.
    expect(await Promise.race([closed(during.socket), sleep(1_000).then(() => 'open')])).toBe(false);
    agent.destroy();
  });

  it('happy: a request in flight at close is answered, idle sockets end cleanly, close does not wait for keep-alive', async () => {
    const { server, port } = await start();
    const agent = new http.Agent({ keepAlive: true, maxSockets: 2 });
    await Promise.all([get(port, '/fast', agent), get(port, '/slow', agent)]);
    const idle = Object.values(agent.freeSockets).flat() as Socket[];
    expect(idle).toHaveLength(2);
    const idleClosed = idle.map(closed);

    draining = true;
    const inFlight = get(port, '/slow', agent); // takes one of the two idle sockets
    await sleep(50);
    const t0 = performance.now();
    const done = closeServer(server);
    const answer = await inFlight;
    expect([answer.status, answer.body, answer.connection]).toEqual([200, 'slow', 'close']);
    await done;
    // Well under the 5 s keep-alive timeout: the busy socket closed after its answer.
    expect(performance.now() - t0).toBeLessThan(1_000);
    // No reset: both sockets closed without error.
    expect(await Promise.all(idleClosed)).toEqual([false, false]);
    agent.destroy();
  });
});
