import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { IssueBatchItem, IssueRequest } from '@coupon/contracts';
import { afterEach, describe, expect, it } from 'vitest';
import { IssuerClient } from './issuer-client.js';

let server: Server | undefined;
let client: IssuerClient | undefined;
afterEach(async () => {
  await client?.close();
  await new Promise((r) => (server ? server.close(r) : r(undefined)));
});

/** A fake issuer: answers each batch with `decide` and records the batch sizes. */
async function fakeIssuer(
  decide: (reqs: IssueRequest[]) => IssueBatchItem[],
  lingerMs = 0,
): Promise<number[]> {
  const sizes: number[] = [];
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      const { requests } = JSON.parse(body) as { requests: IssueRequest[] };
      sizes.push(requests.length);
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ results: decide(requests) }));
    });
  });
  await new Promise<void>((r) => server?.listen(0, '127.0.0.1', r));
  client = new IssuerClient({
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    token: 't',
    connections: 4,
    timeoutMs: 1_000,
    maxInFlight: 1_000,
    maxBatch: 64,
    errorThresholdPercentage: 50,
    volumeThreshold: 1,
    resetTimeoutMs: 1_000,
    lingerMs,
  });
  return sizes;
}

const req = (userId: number): IssueRequest => ({ couponId: 1, userId, requestId: `r${userId}` });

describe('IssuerClient batching', () => {
  it('happy: requests of one turn share a call, capped at maxBatch, each answered in order', async () => {
    const sizes = await fakeIssuer((reqs) =>
      reqs.map((r) => ({ outcome: r.userId % 2 ? 'ISSUED' : 'SOLD_OUT' }) as IssueBatchItem),
    );
    const answers = await Promise.all(Array.from({ length: 100 }, (_, i) => client?.issue(req(i + 1))));
    expect(sizes).toEqual([64, 36]);
    expect(answers.map((a) => a?.outcome)).toEqual(
      Array.from({ length: 100 }, (_, i) => ((i + 1) % 2 ? 'ISSUED' : 'SOLD_OUT')),
    );
  });

  it('happy: with lingerMs, requests arriving one by one within it share a call', async () => {
    const sizes = await fakeIssuer((reqs) => reqs.map(() => ({ outcome: 'SOLD_OUT' }) as IssueBatchItem), 20);
    const answers: Array<Promise<unknown> | undefined> = [];
    for (let u = 1; u <= 3; u++) {
      answers.push(client?.issue(req(u)));
      await new Promise((r) => setImmediate(r)); // a new event-loop turn for each request
    }
    await Promise.all(answers);
    expect(sizes).toEqual([3]);
  });

  it('error: a mostly undecided batch counts against the breaker, yet its decided items keep their outcome', async () => {
    await fakeIssuer((reqs) =>
      reqs.map((r, i) =>
        i === 0 ? { outcome: 'ISSUED' } : { error: { code: 'UNAVAILABLE', message: `down ${r.userId}` } },
      ),
    );
    const answers = await Promise.allSettled([1, 2, 3, 4].map((u) => client?.issue(req(u))));
    expect(answers[0]).toMatchObject({ status: 'fulfilled', value: { outcome: 'ISSUED' } });
    for (const a of answers.slice(1))
      expect(a).toMatchObject({ status: 'rejected', reason: { status: 503 } });
    expect(client?.breaker.opened).toBe(true);
  });

  it('happy: a coupon whose gate is being rebuilt answers 503 without opening the breaker', async () => {
    await fakeIssuer((reqs) =>
      reqs.map(() => ({ error: { code: 'UNAVAILABLE', message: 'rebuilding', scope: 'coupon' } })),
    );
    for (let round = 0; round < 3; round++) {
      const answers = await Promise.allSettled([1, 2, 3, 4].map((u) => client?.issue(req(u))));
      for (const a of answers) expect(a).toMatchObject({ status: 'rejected', reason: { status: 503 } });
    }
    expect(client?.breaker.opened).toBe(false);
  });
});
