import { PassThrough } from 'node:stream';
import { encodeIssuedEvent, newIssuedEvent } from '@coupon/contracts';
import type { DbPool } from '@coupon/db';
import { createDeps, type OwnedDeps, opsEnv } from '@coupon/ops';
import type { Producer } from 'kafkajs';
import { afterAll, beforeAll } from 'vitest';
import { infra, type System, startSystem, testPool } from './harness.js';

export interface OpsContext {
  sys: System;
  pool: DbPool;
  /** The ops command's dependencies on the test infrastructure, output discarded. */
  ops: OwnedDeps;
  /** A plain producer for writing events (or garbage) straight to the main topic. */
  producer: Producer;
}

/** Starts the real system and the ops dependencies once per file; fields are set in beforeAll. */
export function opsContext(): OpsContext {
  const ctx = {} as OpsContext;
  beforeAll(async () => {
    ctx.sys = await startSystem();
    ctx.pool = testPool();
    const sink = () => new PassThrough().resume();
    ctx.ops = await createDeps(opsEnv.parse({ ...infra() }), { out: sink(), err: sink() });
    ctx.producer = ctx.ops.kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await ctx.producer.connect();
  });
  afterAll(async () => {
    await ctx.producer?.disconnect();
    await ctx.ops?.close();
    await ctx.sys?.stop();
    await ctx.pool?.end();
  });
  return ctx;
}

/** An id no coupon has yet, so an event for it fails the foreign key until the test creates the row. */
export async function unusedCouponId(pool: DbPool): Promise<number> {
  const [rows] = await pool.raw.query(
    'SELECT COALESCE(MAX(id), 0) + 1000 + FLOOR(RAND() * 1000) AS id FROM coupon',
  );
  return Number((rows as Array<{ id: number }>)[0]!.id);
}

export function createCouponRow(pool: DbPool, id: number, quantity: number) {
  const opensAt = new Date(Date.now() - 60_000);
  return pool.raw.query(
    'INSERT INTO coupon (id, name, quantity, opens_at, closes_at) VALUES (?, ?, ?, ?, ?)',
    [id, 'ops-test', quantity, opensAt, new Date('2999-01-01Z')],
  );
}

/** A valid CouponIssuedEvent as the issuer would write it. */
export function eventJson(couponId: number, userId: number): string {
  return encodeIssuedEvent(newIssuedEvent(couponId, userId, 'ops-test')).value;
}
