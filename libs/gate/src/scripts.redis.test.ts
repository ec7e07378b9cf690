import { gateKeys, gateLockKey, reconcileGraceKey } from '@coupon/contracts';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { Gate } from './gate.js';
import { acquireLock } from './lock.js';
import { evalScript, type Script, scriptArgs } from './lua.js';
import {
  ADMIT_MANY,
  couponKeys,
  REBUILD_ADD_USERS,
  REBUILD_BEGIN,
  REBUILD_OPEN,
  RECONCILE_AGE,
  RECONCILE_CLAIM,
} from './scripts.js';
import { adoptRows } from './snapshot.js';

// The gate's Lua scripts on real Redis (the integration project's Redis db), one rule and edge each.
// Runs in the integration project (vitest.config.ts: *.redis.test.ts), not in the unit tests.

const redis = new Redis(inject('infra').REDIS_URL);
const gate = new Gate(redis);
let next = 900_000_000 + Math.floor(Math.random() * 1_000_000);
const used: number[] = [];
const couponId = () => {
  used.push(++next);
  return next;
};
afterAll(async () => {
  for (const id of used) await redis.del(...gateKeys(id), gateLockKey(id), reconcileGraceKey(id));
  redis.disconnect();
});

const DAY = 86_400_000;
const open = (id: number, quantity: number) => ({
  id,
  quantity,
  opensAt: new Date(Date.now() - DAY),
  closesAt: new Date(Date.now() + DAY),
});

/** A script's own text run with Redis's TIME pinned to `ms` (a local `redis` shadows the global). */
function runAt<K extends string, A extends string>(
  ms: number,
  s: Script<K, A>,
  keys: Record<K, string>,
  args: Record<A, string | number>,
  rest: number[],
): Promise<unknown> {
  const pin = `local redis = setmetatable({call = function(c, ...) if c == 'TIME' then return {'${Math.floor(ms / 1000)}', '${(ms % 1000) * 1000 + 999}'} end return redis.call(c, ...) end}, {__index = redis})\n`;
  return redis.eval(pin + s.lua, s.keys.length, ...scriptArgs(s, keys, args, rest));
}

const admitAt = (id: number, ms: number, ...users: number[]) =>
  runAt(ms, ADMIT_MANY, couponKeys(id), {}, users) as Promise<number[]>;

describe('ADMIT_MANY: the window', () => {
  const opensAt = Date.UTC(2030, 0, 1);
  const closesAt = opensAt + 60_000;
  const load = async () => {
    const id = couponId();
    await gate.load({ id, quantity: 10, opensAt: new Date(opensAt), closesAt: new Date(closesAt) });
    return id;
  };

  it('happy: open at opensAt exactly (the window includes its start)', async () => {
    const id = await load();
    expect(await admitAt(id, opensAt, 1)).toEqual([0]);
  });

  it('error: closed 1 ms before opensAt and at closesAt exactly (the window excludes its end)', async () => {
    const id = await load();
    expect(await admitAt(id, opensAt - 1, 1, 2)).toEqual([4, 4]);
    expect(await admitAt(id, closesAt, 1)).toEqual([4]);
    expect(await admitAt(id, closesAt - 1, 3)).toEqual([0]);
    expect(await gate.state(id)).toEqual({ quantity: 10, remaining: 9, admitted: 1 });
  });

  it('error: paused → COUPON_PAUSED for every user inside the window, nothing taken; resumed → admits', async () => {
    const id = await load();
    expect(await gate.setControls(id, { paused: true })).toBe(true);
    expect(await admitAt(id, opensAt, 1, 2)).toEqual([5, 5]);
    expect(await gate.state(id)).toEqual({ quantity: 10, remaining: 10, admitted: 0 });
    expect(await gate.setControls(id, { paused: false })).toBe(true);
    expect(await admitAt(id, opensAt, 1)).toEqual([0]);
  });

  it('happy: a window moved by setControls is the one the script reads', async () => {
    const id = await load();
    expect(await gate.setControls(id, { closesAt: new Date(opensAt + 1) })).toBe(true);
    expect(await admitAt(id, opensAt, 1)).toEqual([0]);
    expect(await admitAt(id, opensAt + 1, 2)).toEqual([4]);
  });

  it('error: no gate at all → COUPON_NOT_FOUND for every user, nothing written', async () => {
    const id = couponId();
    expect(await gate.admitMany([1, 2].map((userId) => ({ couponId: id, userId })))).toEqual([
      'COUPON_NOT_FOUND',
      'COUPON_NOT_FOUND',
    ]);
    expect(await redis.exists(...gateKeys(id))).toBe(0);
  });
});

describe('ADMIT_MANY: stock and users', () => {
  it('error: stock 0 → SOLD_OUT, nobody added', async () => {
    const id = couponId();
    await gate.load(open(id, 0));
    expect(await gate.admitMany([{ couponId: id, userId: 1 }])).toEqual(['SOLD_OUT']);
    expect(await gate.state(id)).toEqual({ quantity: 0, remaining: 0, admitted: 0 });
  });

  it('happy: one user twice in one call → ISSUED then ALREADY_ISSUED, one slot taken', async () => {
    const id = couponId();
    await gate.load(open(id, 5));
    const out = await gate.admitMany([1, 1].map((userId) => ({ couponId: id, userId })));
    expect(out).toEqual(['ISSUED', 'ALREADY_ISSUED']);
    expect(await gate.state(id)).toEqual({ quantity: 5, remaining: 4, admitted: 1 });
  });

  it('happy: in order within a call; a duplicate after sold out is still ALREADY_ISSUED', async () => {
    const id = couponId();
    await gate.load(open(id, 1));
    const out = await gate.admitMany([1, 2, 1, 3].map((userId) => ({ couponId: id, userId })));
    expect(out).toEqual(['ISSUED', 'SOLD_OUT', 'ALREADY_ISSUED', 'SOLD_OUT']);
    expect(await gate.admittedUsers(id)).toEqual([1]);
  });
});

describe('RELEASE', () => {
  it('error: a release of a non-member gives nothing back', async () => {
    const id = couponId();
    await gate.load(open(id, 2));
    expect(await gate.release(id, 7)).toBe(false);
    expect(await gate.state(id)).toEqual({ quantity: 2, remaining: 2, admitted: 0 });
  });

  it("happy: a release forgets the user's reconcile grace, a member's or not", async () => {
    const id = couponId();
    await gate.load(open(id, 2));
    await gate.admit(id, 7);
    await redis.hset(reconcileGraceKey(id), '7', '1:0', '8', '1:0', '9', '1:0');
    expect(await gate.release(id, 7)).toBe(true);
    expect(await gate.release(id, 8)).toBe(false);
    expect(await redis.hkeys(reconcileGraceKey(id))).toEqual(['9']);
  });

  it('happy: a member released gives its slot back once; a second release gives nothing', async () => {
    const id = couponId();
    await gate.load(open(id, 2));
    await gate.admit(id, 7);
    expect(await gate.release(id, 7)).toBe(true);
    expect(await gate.release(id, 7)).toBe(false);
    expect(await gate.state(id)).toEqual({ quantity: 2, remaining: 2, admitted: 0 });
  });
});

describe('the rebuild scripts are fenced by the lock token', () => {
  const begin = (id: number, token: string, mode: string) =>
    evalScript(redis, REBUILD_BEGIN, couponKeys(id), { token, mode });

  it('security: BEGIN with a foreign token leaves a live gate untouched; so does Gate.rebuild', async () => {
    const id = couponId();
    await gate.load(open(id, 3), [1]);
    await redis.set(gateLockKey(id), 'theirs');
    expect(await begin(id, 'mine', 'force')).toBe(-1);
    expect(await gate.rebuild(open(id, 3), [], 'mine', true)).toBe('lock lost');
    expect(await gate.state(id)).toEqual({ quantity: 3, remaining: 2, admitted: 1 });
  });

  it('security: ADD_USERS and OPEN with a foreign token write nothing (the lock changed hands mid-rebuild)', async () => {
    const id = couponId();
    await redis.set(gateLockKey(id), 'mine');
    expect(await begin(id, 'mine', '')).toBe(1);
    await redis.set(gateLockKey(id), 'theirs');
    expect(await evalScript(redis, REBUILD_ADD_USERS, couponKeys(id), { token: 'mine' }, [1, 2])).toBe(-1);
    const meta = { token: 'mine', quantity: 3, opensAt: 0, closesAt: DAY, remaining: 3, paused: '0' };
    expect(await evalScript(redis, REBUILD_OPEN, couponKeys(id), meta)).toBe(-1);
    expect(await redis.exists(...gateKeys(id))).toBe(0); // still closed: COUPON_NOT_FOUND
  });

  it('happy: without force a present gate stays; with our token and force it is rebuilt', async () => {
    const id = couponId();
    await gate.load(open(id, 3));
    await redis.set(gateLockKey(id), 'mine');
    expect(await gate.rebuild(open(id, 3), [1], 'mine')).toBe('present');
    expect(await gate.state(id)).toEqual({ quantity: 3, remaining: 3, admitted: 0 });
    expect(await gate.rebuild(open(id, 3), [1, 2, 2], 'mine', true)).toBe('loaded');
    expect(await gate.state(id)).toEqual({ quantity: 3, remaining: 1, admitted: 2 });
  });
});

describe('the rebuild scripts with our token', () => {
  it('happy: a forced BEGIN keeps the users; OPEN caps stock at quantity − |users| whatever the caller says', async () => {
    const id = couponId();
    await gate.load(open(id, 5), [1, 2]);
    await redis.set(gateLockKey(id), 'mine');
    expect(await gate.close(id, 'mine')).toBe('closed');
    expect(await gate.admitMany([{ couponId: id, userId: 3 }])).toEqual(['COUPON_NOT_FOUND']);
    expect(await gate.admittedUsers(id)).toEqual([1, 2]);
    const meta = {
      token: 'mine',
      quantity: 5,
      opensAt: 0,
      closesAt: Date.now() + DAY,
      remaining: 5,
      paused: '0',
    };
    expect(await evalScript(redis, REBUILD_OPEN, couponKeys(id), meta)).toBe(1);
    expect(await gate.state(id)).toEqual({ quantity: 5, remaining: 3, admitted: 2 });
    expect(await redis.hget(gateKeys(id)[0], 'paused')).toBe('0');
  });

  it('happy: BEGIN without force on a missing gate empties stale users; ADD_USERS then fills them', async () => {
    const id = couponId();
    await redis.sadd(gateKeys(id)[2], 99);
    await redis.set(gateLockKey(id), 'mine');
    expect(await evalScript(redis, REBUILD_BEGIN, couponKeys(id), { token: 'mine', mode: '' })).toBe(1);
    expect(await redis.exists(gateKeys(id)[2])).toBe(0);
    expect(await evalScript(redis, REBUILD_ADD_USERS, couponKeys(id), { token: 'mine' }, [1, 2])).toBe(1);
    expect(await gate.admittedUsers(id)).toEqual([1, 2]);
  });
});

describe('SET_CONTROLS', () => {
  it('error: on a missing gate it changes nothing and creates nothing', async () => {
    const id = couponId();
    expect(await gate.setControls(id, { paused: true, opensAt: new Date(0) })).toBe(false);
    expect(await redis.exists(...gateKeys(id))).toBe(0);
  });
});

describe('ADOPT', () => {
  it('error: on a missing gate it refuses and creates nothing', async () => {
    const id = couponId();
    await expect(adoptRows(redis, id, [1, 2])).rejects.toThrow(/gate is gone/);
    expect(await redis.exists(...gateKeys(id))).toBe(0);
  });

  it('happy: adds the users and lowers stock to quantity − admitted, never raises it', async () => {
    const id = couponId();
    await gate.load(open(id, 5));
    expect(await adoptRows(redis, id, [1, 2])).toBe(2);
    expect(await gate.state(id)).toEqual({ quantity: 5, remaining: 3, admitted: 2 });
    await redis.set(gateKeys(id)[1], '1');
    expect(await adoptRows(redis, id, [2])).toBe(0);
    expect(await gate.state(id)).toEqual({ quantity: 5, remaining: 1, admitted: 2 });
  });
});

describe('RECONCILE_AGE and RECONCILE_CLAIM: the grace of each admission, on Redis time', () => {
  const t0 = Date.UTC(2030, 0, 1);
  const GRACE = 1_000;
  const setup = async () => {
    const id = couponId();
    await gate.load(open(id, 10), [1, 2, 3]);
    return id;
  };
  const age = (id: number, ms: number, users: number[]) =>
    runAt(ms, RECONCILE_AGE, couponKeys(id), { graceMs: GRACE }, users) as Promise<
      [number, number, string[]]
    >;
  const claim = (id: number, ms: number, users: number[]) =>
    runAt(ms, RECONCILE_CLAIM, couponKeys(id), { graceMs: GRACE }, users) as Promise<string[]>;

  it('happy: first seen now → pending and recorded; non-members (released) skipped and not recorded', async () => {
    const id = await setup();
    expect(await age(id, t0, [1, 2, 4])).toEqual([2, 0, []]);
    expect(await redis.hgetall(reconcileGraceKey(id))).toEqual({ '1': `${t0}:0`, '2': `${t0}:0` });
  });

  it('error: overdue at the grace exactly, pending 1 ms before; the oldest age is reported', async () => {
    const id = await setup();
    await age(id, t0, [1]);
    await age(id, t0 + 500, [2]);
    expect(await age(id, t0 + GRACE - 1, [1, 2])).toEqual([2, GRACE - 1, []]);
    expect(await age(id, t0 + GRACE, [1, 2])).toEqual([1, GRACE, ['1']]);
  });

  it('happy: a bare number from older versions is a firstSeen', async () => {
    const id = await setup();
    await redis.hset(reconcileGraceKey(id), '3', String(t0));
    expect(await age(id, t0 + GRACE, [3])).toEqual([0, GRACE, ['3']]);
  });

  it('happy: CLAIM takes the overdue members once and restarts their grace from now', async () => {
    const id = await setup();
    await age(id, t0, [1, 2]);
    await age(id, t0 + 500, [3]);
    expect(await claim(id, t0 + GRACE, [1, 2, 3])).toEqual(['1', '2']);
    expect(await redis.hget(reconcileGraceKey(id), '1')).toBe(`${t0}:${t0 + GRACE}`);
    expect(await claim(id, t0 + GRACE, [1, 2])).toEqual([]); // another round at the same instant
    expect(await age(id, t0 + 2 * GRACE - 1, [1])).toEqual([1, 2 * GRACE - 1, []]);
    expect(await claim(id, t0 + 2 * GRACE, [1])).toEqual(['1']);
  });

  it('error: CLAIM skips users never seen by AGE and users released since', async () => {
    const id = await setup();
    await age(id, t0, [1, 2]);
    expect(await gate.release(id, 2)).toBe(true);
    await redis.hset(reconcileGraceKey(id), '2', `${t0}:0`); // even if a stale field remained
    expect(await claim(id, t0 + GRACE, [1, 2, 3])).toEqual(['1']);
  });
});

describe('UNLOCK and RENEW: compare-and-act on the lock token', () => {
  it('security: a holder whose lock changed hands neither renews nor deletes it', async () => {
    const id = couponId();
    const mine = await acquireLock(redis, gateLockKey(id), id, 5_000);
    expect(mine).toBeDefined();
    await redis.set(gateLockKey(id), 'theirs', 'PX', 60_000);
    expect(await mine?.renew()).toBe(false);
    expect(await redis.pttl(gateLockKey(id))).toBeGreaterThan(50_000);
    expect(await mine?.release()).toBe(false);
    expect(await redis.get(gateLockKey(id))).toBe('theirs');
  });

  it('happy: our own lock is renewed to its TTL and released', async () => {
    const id = couponId();
    const mine = await acquireLock(redis, gateLockKey(id), id, 60_000);
    expect(await acquireLock(redis, gateLockKey(id), id, 60_000)).toBeUndefined();
    await redis.pexpire(gateLockKey(id), 1_000);
    expect(await mine?.renew()).toBe(true);
    expect(await redis.pttl(gateLockKey(id))).toBeGreaterThan(50_000);
    expect(await mine?.release()).toBe(true);
    expect(await redis.exists(gateLockKey(id))).toBe(0);
  });
});
