import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { LogShipper } from './log-ship.js';

let server: Server | undefined;
afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

/** A stand-in for the store's JSON-lines endpoint: records each request's path and lines. */
async function store(): Promise<{ url: string; got: { path: string; lines: string[] }[] }> {
  const got: { path: string; lines: string[] }[] = [];
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      got.push({ path: req.url ?? '', lines: body.split('\n').filter(Boolean) });
      res.end();
    });
  });
  const srv = server;
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(srv.address() as AddressInfo).port}`, got };
}

describe('LogShipper', () => {
  it('happy: buffered lines reach the JSON-lines API with pino field names', async () => {
    const s = await store();
    const shipper = new LogShipper({ url: s.url, flushMs: 10_000 });
    shipper.write('{"msg":"a"}\n');
    shipper.write('{"msg":"b"}\n');
    await shipper.close();
    expect(s.got).toHaveLength(1);
    expect(s.got[0]?.path).toMatch(
      /^\/insert\/jsonline\?_msg_field=msg&_time_field=time&_stream_fields=service$/,
    );
    expect(s.got[0]?.lines).toEqual(['{"msg":"a"}', '{"msg":"b"}']);
    expect(shipper.stats()).toEqual({ shipped: 2, dropped: 0, failedRequests: 0, buffered: 0 });
  });

  it('error: with the store down the buffer stays bounded and the overflow is counted as dropped', async () => {
    const s = await store();
    await new Promise<void>((r) => server?.close(() => r()));
    server = undefined;
    const shipper = new LogShipper({ url: s.url, flushMs: 10_000, maxBuffered: 5, timeoutMs: 500 });
    for (let i = 0; i < 8; i++) shipper.write(`{"msg":"${i}"}\n`);
    expect(shipper.stats()).toMatchObject({ dropped: 3, buffered: 5 });
    await shipper.flush();
    // the failed batch went back: nothing more is lost, the next tick retries it
    expect(shipper.stats()).toEqual({ shipped: 0, dropped: 3, failedRequests: 1, buffered: 5 });
    await shipper.close();
    expect(shipper.stats().dropped).toBe(3);
  });
});
