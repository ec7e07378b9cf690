import { gateKeys, gateLockKey } from '@coupon/contracts';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { Gate } from './gate.js';
import { ADMIT_MANY, REBUILD_ADD_USERS, REBUILD_BEGIN, REBUILD_OPEN } from './scripts.js';
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
  for (const id of used) await redis.del(...gateKeys(id), gateLockKey(id));
  redis.disconnect();
});

const DAY = 86_400_000;
const open = (id: number, quantity: number) => ({
  id,
  quantity,
  opensAt: new Date(Date.now() - DAY),
  closesAt: new Date(Date.now() + DAY),
});

/** ADMIT_MANY's own text with Redis's TIME pinned to `ms` (a local `redis` shadows the global). */
function admitAt(id: number, ms: number, ...users: number[]): Promise<number[]> {
  const pin = `local redis = setmetatable({call = function(c, ...) if c == 'TIME' then return {'${Math.floor(ms / 1000)}', '${(ms % 1000) * 1000 + 999}'} end return redis.call(c, ...) end}, {__index = redis})\n`;
  return redis.eval(pin + ADMIT_MANY, 3, ...gateKeys(id), ...users) as Promise<number[]>;
}

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
  const keys = (id: number) => [...gateKeys(id), gateLockKey(id)];

  it('security: BEGIN with a foreign token leaves a live gate untouched; so does Gate.rebuild', async () => {
    const id = couponId();
    await gate.load(open(id, 3), [1]);
    await redis.set(gateLockKey(id), 'theirs');
    expect(await redis.eval(REBUILD_BEGIN, 4, ...keys(id), 'mine', 'force')).toBe(-1);
    expect(await gate.rebuild(open(id, 3), [], 'mine', true)).toBe('lock lost');
    expect(await gate.state(id)).toEqual({ quantity: 3, remaining: 2, admitted: 1 });
  });

  it('security: ADD_USERS and OPEN with a foreign token write nothing (the lock changed hands mid-rebuild)', async () => {
    const id = couponId();
    await redis.set(gateLockKey(id), 'mine');
    expect(await redis.eval(REBUILD_BEGIN, 4, ...keys(id), 'mine', '')).toBe(1);
    await redis.set(gateLockKey(id), 'theirs');
    expect(await redis.eval(REBUILD_ADD_USERS, 4, ...keys(id), 'mine', 1, 2)).toBe(-1);
    expect(await redis.eval(REBUILD_OPEN, 4, ...keys(id), 'mine', 3, 0, DAY, 3)).toBe(-1);
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
