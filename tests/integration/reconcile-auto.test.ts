import { PassThrough } from 'node:stream';
import { decodeIssuedEvent, gateKeys, reconcileGraceKey, reconcileLockKey } from '@coupon/contracts';
import { type DbPool, issueRecord } from '@coupon/db';
import {
  acquireLock,
  Gate,
  type ReconcileDeps,
  rangesFromGroup,
  readRanges,
  reconcileCoupon,
} from '@coupon/gate';
import { createDeps, type OwnedDeps, opsEnv } from '@coupon/ops';
import type { Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sleep } from '../support/index.js';
import { infra, issue, type System, startSystem, testPool, topics, userIds } from './harness.js';

// The issuer's own reconcile, with a short interval and grace: drift settles with no operator.
const GRACE_MS = 1_000;
let sys: System;
let pool: DbPool;
let ops: OwnedDeps;
let rule: ReconcileDeps;
let producer: Producer | undefined;

beforeAll(async () => {
  sys = await startSystem({
    issuerEnv: { RECONCILE_INTERVAL_MS: '300', RECONCILE_GRACE_MS: String(GRACE_MS) },
  });
  pool = testPool();
  const sink = () => new PassThrough().resume();
  ops = await createDeps(opsEnv.parse({ ...infra() }), { out: sink(), err: sink() });
  rule = {
    ...ops,
    admin: async () => ops.admin,
    producer: async () => {
      if (!producer) {
        producer = ops.kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
        await producer.connect();
      }
      return producer;
    },
  };
});
afterAll(async () => {
  await producer?.disconnect();
  await ops?.close();
  await sys?.stop();
  await pool?.end();
});

/** Events of the coupon in the main topic, per user (the whole topic of this run). */
async function eventsOf(couponId: number): Promise<Map<number, number>> {
  const seen = new Map<number, number>();
  const ranges = await rangesFromGroup(ops.admin, topics().issued, undefined);
  await readRanges(ops.kafka, {
    topic: topics().issued,
    ranges,
    onBatch: async ({ messages }) => {
      for (const m of messages) {
        const d = decodeIssuedEvent(m.value);
        if (d.ok && d.event.couponId === couponId)
          seen.set(d.event.userId, (seen.get(d.event.userId) ?? 0) + 1);
      }
      return undefined;
    },
  });
  return seen;
}

/** A slot taken in Redis with no event: what an ambiguous produce or WAIT failure leaves. */
async function admitWithoutEvent(couponId: number, userId: number): Promise<void> {
  const [, stock, users] = gateKeys(couponId);
  await ops.redis.multi().sadd(users, userId).decr(stock).exec();
}

/** One sample from the issuer's /metrics; `label` (e.g. 'action="adopted"') picks a child. */
async function metric(name: string, label = ''): Promise<number | undefined> {
  const text = await (await fetch(`http://127.0.0.1:${sys.issuer.port}/metrics`)).text();
  const line = text
    .split('\n')
    .find((l) => (l.startsWith(`${name}{`) || l.startsWith(`${name} `)) && l.includes(label));
  return line === undefined ? undefined : Number(line.split(' ').at(-1));
}

describe('the issuer reconciles by itself', () => {
  it('happy: an admitted user whose event never reached Kafka is republished and ends as a row, no operator', async () => {
    const coupon = await sys.admin.createCoupon(10);
    const [served, ghost] = userIds(2) as [number, number];
    expect((await issue(sys.url, served, coupon.id)).status).toBe(202); // the issuer served the coupon
    await admitWithoutEvent(coupon.id, ghost);
    const before = (await metric('coupon_reconcile_repaired_total', 'action="republished"')) ?? 0;

    await expect.poll(() => issueRecord(pool, coupon.id, ghost)).toBe('ISSUED');
    expect((await eventsOf(coupon.id)).get(ghost)).toBe(1);
    expect(await metric('coupon_reconcile_repaired_total', 'action="republished"')).toBeGreaterThanOrEqual(
      before + 1,
    );
    const s = await sys.admin.stats(coupon.id);
    expect(s).toMatchObject({ admitted: 2, persisted: 2, remaining: 8 });
    // Settled: the next rounds see nothing ambiguous for it.
    await expect.poll(() => metric('coupon_reconcile_ambiguous_admissions')).toBe(0);
  });

  it('happy: an admission whose event is in flight (persister stopped) is not republished', async () => {
    const coupon = await sys.admin.createCoupon(10);
    const [user] = userIds(1) as [number];
    await sys.persister?.stop();
    try {
      expect((await issue(sys.url, user, coupon.id)).status).toBe(202);
      // Past the grace, several rounds; each finds the event beyond the persister's committed offsets.
      await sleep(GRACE_MS + 6_000);
      expect(await issueRecord(pool, coupon.id, user)).toBeUndefined();
      expect((await eventsOf(coupon.id)).get(user)).toBe(1);
      expect(await metric('coupon_reconcile_ambiguous_admissions')).toBeGreaterThanOrEqual(1);
    } finally {
      await sys.startPersister();
    }
    await expect.poll(() => issueRecord(pool, coupon.id, user)).toBe('ISSUED');
    expect((await eventsOf(coupon.id)).get(user)).toBe(1);
  });

  it('security: a refused user is never republished', async () => {
    const coupon = await sys.admin.createCoupon(10);
    const [served, refused] = userIds(2) as [number, number];
    expect((await issue(sys.url, served, coupon.id)).status).toBe(202);
    await pool.raw.query(
      "INSERT INTO coupon_refusal (coupon_id, user_id, event_id, reason) VALUES (?, ?, UUID(), 'OVER_QUANTITY')",
      [coupon.id, refused],
    );
    await admitWithoutEvent(coupon.id, refused);
    await sleep(GRACE_MS + 3_000);
    expect(await issueRecord(pool, coupon.id, refused)).toBe('REFUSED');
    expect((await eventsOf(coupon.id)).get(refused)).toBeUndefined();
    expect(await ops.redis.hexists(reconcileGraceKey(coupon.id), String(refused))).toBe(0);
  });
});

describe('grace per admission', () => {
  it('error: a user released and admitted again gets a fresh grace, not the first admission’s', async () => {
    // A coupon this issuer never served: only the calls below reconcile it.
    const coupon = await sys.admin.createCoupon(5);
    const [user] = userIds(1) as [number];
    const gate = new Gate(ops.redis);
    const graceKey = reconcileGraceKey(coupon.id);
    expect(await gate.admit(coupon.id, user)).toBe('ISSUED');
    const first = await reconcileCoupon(rule, coupon.id, { repair: false, graceMs: GRACE_MS });
    expect(first).toMatchObject({ pending: 1, missing: 0 });
    expect(await ops.redis.hexists(graceKey, String(user))).toBe(1);
    await sleep(GRACE_MS + 200);

    // A definite produce failure releases the slot: the release forgets the grace with it.
    expect(await gate.release(coupon.id, user)).toBe(true);
    expect(await ops.redis.hexists(graceKey, String(user))).toBe(0);
    expect(await gate.admit(coupon.id, user)).toBe('ISSUED');
    const again = await reconcileCoupon(rule, coupon.id, { repair: true, graceMs: GRACE_MS });
    expect(again).toMatchObject({ status: 'ok', pending: 1, missing: 0, republished: 0 });
    expect((await eventsOf(coupon.id)).get(user)).toBeUndefined();

    // Once its own grace has passed, the new admission is republished like any other.
    await sleep(GRACE_MS + 200);
    const late = await reconcileCoupon(rule, coupon.id, { repair: true, graceMs: GRACE_MS });
    expect(late).toMatchObject({ status: 'repaired', republished: 1 });
    await expect.poll(() => issueRecord(pool, coupon.id, user)).toBe('ISSUED');
  });

  it('error: a gate whose coupon has no row in MySQL is reported and nothing is republished', async () => {
    // A gate left by another database in a shared Redis (or a database restored from before it).
    const id = 900_000_000 + Math.floor(Math.random() * 1_000_000);
    const [meta, stock, users] = gateKeys(id);
    await ops.redis.multi().hset(meta, 'quantity', '3').set(stock, '1').sadd(users, '1', '2').exec();
    try {
      const r = await reconcileCoupon(rule, id, { repair: true, graceMs: 0 });
      expect([r.status, r.republished]).toEqual([
        'no coupon in MySQL (a gate without its row: restore the row or delete the gate)',
        0,
      ]);
      expect([...(await eventsOf(id)).keys()]).toEqual([]);
    } finally {
      await ops.redis.del(meta, stock, users);
    }
  });

  it('happy: one reconcile at a time per coupon; a second one reports busy', async () => {
    const coupon = await sys.admin.createCoupon(5);
    const held = await acquireLock(ops.redis, reconcileLockKey(coupon.id), coupon.id, 10_000);
    try {
      expect(await reconcileCoupon(rule, coupon.id, { repair: true, graceMs: 0 })).toMatchObject({
        status: 'busy',
      });
    } finally {
      await held?.release();
    }
    expect(await reconcileCoupon(rule, coupon.id, { repair: true, graceMs: 0 })).toMatchObject({
      status: 'ok',
      admitted: 0,
    });
  });
});
