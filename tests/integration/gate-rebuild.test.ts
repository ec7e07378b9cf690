import { PassThrough } from 'node:stream';
import { gateKeys, gateLockKey } from '@coupon/contracts';
import { acquireGateLock, gateSnapshot, keepGateLock, rebuildGate } from '@coupon/gate';
import { ensureTopics } from '@coupon/kit';
import { createDeps, type OwnedDeps, opsEnv } from '@coupon/ops';
import type { Admin } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sleep } from '../support/index.js';
import { infra, topics } from './harness.js';
import { createCouponRow, unusedCouponId } from './ops-fixtures.js';

// The rebuild lock is renewed while a rebuild works (compare-and-PEXPIRE every ttl/3): a short TTL
// and a rebuild slowed down in its Kafka reads (the admin's offset lookups answer late).
let ops: OwnedDeps;
beforeAll(async () => {
  const sink = () => new PassThrough().resume();
  ops = await createDeps(opsEnv.parse({ ...infra() }), { out: sink(), err: sink() });
  await ensureTopics(ops.kafka, [topics().issued, topics().issuedDlt]);
});
afterAll(() => ops?.close());

/** The ops admin, its offset lookups answered `ms` late (a slow rebuild); `during` runs meanwhile. */
function slowAdmin(ms: number, during?: () => Promise<unknown>): Admin {
  return new Proxy(ops.admin, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver);
      if (prop !== 'fetchTopicOffsets' || typeof v !== 'function') return v;
      return async (...args: unknown[]) => {
        await during?.();
        await sleep(ms);
        return v.apply(target, args);
      };
    },
  });
}

async function lostGate(quantity: number): Promise<number> {
  const id = await unusedCouponId(ops.pool);
  await createCouponRow(ops.pool, id, quantity);
  await ops.redis.del(...gateKeys(id), gateLockKey(id));
  return id;
}

describe('the rebuild lock is renewed while the rebuild works', () => {
  it('happy: held by its holder past its TTL while renewed; expires once renewals stop', async () => {
    const id = await lostGate(1);
    const lock = await acquireGateLock(ops.redis, id, 900);
    const kept = keepGateLock(lock!);
    await sleep(2_500);
    expect(await ops.redis.get(gateLockKey(id))).toBe(lock?.token);
    expect(kept.signal.aborted).toBe(false);
    kept.stop();
    await sleep(1_200);
    expect(await ops.redis.exists(gateLockKey(id))).toBe(0);
  });

  it('happy: a rebuild slower than the lock TTL completes and loads the gate', async () => {
    const id = await lostGate(5);
    const r = await rebuildGate({ ...ops, admin: slowAdmin(1_000) }, { couponId: id, lockTtlMs: 600 });
    expect(r).toMatchObject({ quantity: 5, remaining: 5 });
    expect(await gateSnapshot(ops.redis, id)).toMatchObject({ quantity: 5, remaining: 5 });
    expect(await ops.redis.exists(gateLockKey(id))).toBe(0); // released when done
  });

  it('error: a renewal that finds the lock taken by another aborts the rebuild; nothing written, theirs kept', async () => {
    const id = await lostGate(5);
    const steal = () => ops.redis.set(gateLockKey(id), 'someone-else', 'PX', 10_000);
    const rebuild = rebuildGate({ ...ops, admin: slowAdmin(1_000, steal) }, { couponId: id, lockTtlMs: 600 });
    await expect(rebuild).rejects.toThrow(/lock lost/);
    expect(await ops.redis.exists(...gateKeys(id))).toBe(0);
    expect(await ops.redis.get(gateLockKey(id))).toBe('someone-else');
    await ops.redis.del(gateLockKey(id));
  });
});
