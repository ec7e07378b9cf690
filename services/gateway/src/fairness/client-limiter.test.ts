import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { ClientLimiter, type Verdict } from './client-limiter.js';

const run = async (v: Verdict | Promise<Verdict>) => await v;

describe('ClientLimiter (memory)', () => {
  it('happy: admits up to the limit per key and second, then says how long to wait; other keys keep theirs', async () => {
    const l = new ClientLimiter({ limits: { userPerSec: 3, addressPerSec: 0 } });
    const verdicts = [];
    for (let i = 0; i < 5; i++) verdicts.push(await run(l.user(7)));
    expect(verdicts.slice(0, 3)).toEqual([undefined, undefined, undefined]);
    expect(verdicts[3]).toBe(1);
    expect(await run(l.user(8))).toBeUndefined();
    expect(l.stats.userRejected).toBe(2);
  });

  it('happy: a limit of 0 costs nothing and refuses nothing (the address limit is off by default)', () => {
    const l = new ClientLimiter({ limits: { userPerSec: 0, addressPerSec: 0 } });
    expect(l.limitsAddress).toBe(false);
    for (let i = 0; i < 100; i++) expect(l.user(1)).toBeUndefined();
  });

  it('happy: setLimits changes the limits in place and returns the old ones', async () => {
    const l = new ClientLimiter({ limits: { userPerSec: 1, addressPerSec: 0 } });
    expect(await run(l.user(1))).toBeUndefined();
    expect(await run(l.user(1))).toBe(1);
    expect(l.setLimits({ userPerSec: 5, addressPerSec: 2 })).toEqual({ userPerSec: 1, addressPerSec: 0 });
    expect(l.limits).toEqual({ userPerSec: 5, addressPerSec: 2 });
    expect(l.limitsAddress).toBe(true);
    for (let i = 0; i < 5; i++) expect(await run(l.user(1))).toBeUndefined();
    expect(await run(l.address('192.0.2.1'))).toBeUndefined();
    expect(await run(l.address('192.0.2.1'))).toBeUndefined();
    expect(await run(l.address('192.0.2.1'))).toBe(1);
    expect(() => l.setLimits({ userPerSec: -1 })).toThrow(/userPerSec must be an integer ≥ 0/);
  });
});

describe('ClientLimiter (shared through Redis)', () => {
  /** A client that records the commands the limiters send it (none answer: they would time out). */
  function recordingRedis() {
    const calls: string[] = [];
    const redis = new Proxy(
      { status: 'ready', options: {} },
      {
        get: (target, prop) =>
          prop in target
            ? target[prop as keyof typeof target]
            : (...args: unknown[]) => {
                calls.push(String(prop));
                const cb = args.at(-1);
                if (typeof cb === 'function') cb(null, [1, 1000]);
                return Promise.resolve([1, 1000]);
              },
      },
    );
    return { redis: redis as unknown as Redis, calls };
  }

  it('happy: RATE_LIMIT_USER_SHARED=false keeps the per-user counters in memory: no Redis call per request', async () => {
    const { redis, calls } = recordingRedis();
    const l = new ClientLimiter({ limits: { userPerSec: 2, addressPerSec: 0 }, redis, sharedUsers: false });
    const verdicts = [];
    for (let i = 0; i < 3; i++) verdicts.push(await run(l.user(7)));
    expect(verdicts).toEqual([undefined, undefined, 1]);
    expect(calls.filter((c) => c !== 'defineCommand')).toEqual([]);
  });

  it('happy: shared (the default), each request of a user is counted in Redis', async () => {
    const { redis, calls } = recordingRedis();
    const l = new ClientLimiter({ limits: { userPerSec: 2, addressPerSec: 0 }, redis });
    await run(l.user(7));
    await run(l.user(8));
    expect(calls.filter((c) => c !== 'defineCommand')).toHaveLength(2);
  });
});
