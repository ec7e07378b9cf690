import { gateKeys, REPLAYED_FROM_HEADER, topicNames } from '@coupon/contracts';
import { countIssues, countRefusals, type DbPool, duplicateIssues, insertIssuesGuarded } from '@coupon/db';
import { listDlt, reconcile, replayDlt } from '@coupon/ops';
import type { Admin as KafkaAdmin } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { infra, issue, runPersister, tally, topics, userIds } from './harness.js';
import { createCouponRow, eventJson, opsContext, unusedCouponId } from './ops-fixtures.js';

// I1 guarded twice: whatever the Redis gate admits (here an operator raises the stock of a sold-out
// coupon by hand), MySQL never holds more rows than the quantity, and the excess is loud: DLT reason
// OVER_QUANTITY, persister_over_quantity_total, status REFUSED, reported apart by reconcile.

const ctx = opsContext();
const sorted = (xs: number[]) => [...xs].sort((x, y) => x - y);

async function metric(persisterPort: number | undefined, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${persisterPort}/metrics`)).text();
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text);
  if (!m) throw new Error(`${name} missing from the persister's /metrics`);
  return Number(m[1]);
}

const overQuantityCount = (port: number | undefined) => metric(port, 'persister_over_quantity_total');
const batches = (port: number | undefined) => metric(port, 'persister_batch_size_count');

async function status(url: string, userId: number, couponId: number): Promise<string> {
  const res = await fetch(`${url}/coupons/${userId}/issues/${couponId}`);
  return ((await res.json()) as { state: string }).state;
}

/** The main topic's partitions the persister group has not committed to their end: [] once it caught up. */
async function behind(
  admin: KafkaAdmin,
): Promise<Array<{ partition: number; committed: number; high: number }>> {
  const t = topics();
  const [committed, ends] = await Promise.all([
    admin.fetchOffsets({ groupId: t.persisterGroup, topics: [t.issued] }),
    admin.fetchTopicOffsets(t.issued),
  ]);
  const at = new Map((committed[0]?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
  return ends
    .map((e) => ({ partition: e.partition, committed: at.get(e.partition) ?? -1, high: Number(e.high) }))
    .filter((p) => p.high > 0 && p.committed < p.high);
}

describe('quantity guard: the gate over-admits, MySQL refuses the excess', () => {
  it('error: stock raised by hand on a sold-out coupon; rows stay at the quantity, the excess is refused loudly and for good', async () => {
    const { sys, ops, pool } = ctx;
    const quantity = 5;
    const coupon = await sys.admin.createCoupon(quantity);
    const users = userIds(quantity + 4);
    const first = users.slice(0, quantity);
    const extra = users.slice(quantity, quantity + 3);
    const late = users[quantity + 3]!;

    expect(tally(await Promise.all(first.map((u) => issue(sys.url, u, coupon.id))))).toEqual({ '202': 5 });
    expect((await issue(sys.url, late, coupon.id)).body.error?.code).toBe('SOLD_OUT');
    await expect.poll(() => sys.admin.stats(coupon.id)).toMatchObject({ persisted: quantity });
    const countBefore = await overQuantityCount(sys.persister?.port);

    // The operator's mistake (or a failover that lost the gate's writes): three more seats in Redis.
    await ops.redis.set(gateKeys(coupon.id)[1], String(extra.length));
    expect(tally(await Promise.all(extra.map((u) => issue(sys.url, u, coupon.id))))).toEqual({ '202': 3 });
    expect((await issue(sys.url, late + 1_000, coupon.id)).body.error?.code).toBe('SOLD_OUT');

    await expect
      .poll(async () => {
        const dlt = await listDlt(ops, { couponId: coupon.id, reason: 'OVER_QUANTITY' });
        return sorted(dlt.map((e) => e.userId ?? 0));
      })
      .toEqual(sorted(extra));
    expect(await countIssues(pool, coupon.id)).toBe(quantity);
    expect(await countRefusals(pool, coupon.id)).toBe(extra.length);
    expect(await overQuantityCount(sys.persister?.port)).toBe(countBefore + extra.length);
    for (const u of extra) expect(await status(sys.url, u, coupon.id)).toBe('REFUSED');
    expect(await status(sys.url, first[0]!, coupon.id)).toBe('ISSUED');
    expect(await sys.admin.stats(coupon.id)).toMatchObject({ persisted: quantity, refused: extra.length });

    // Replaying the refused entries makes no row, no new DLT entry, and no second count.
    expect(await replayDlt(ops, { couponId: coupon.id, reason: 'OVER_QUANTITY' })).toMatchObject({
      replayed: extra.length,
    });
    await expect.poll(() => behind(ops.admin)).toEqual([]);
    expect(await countIssues(pool, coupon.id)).toBe(quantity);
    expect(await duplicateIssues(pool, coupon.id)).toBe(0);
    expect(await listDlt(ops, { couponId: coupon.id, reason: 'OVER_QUANTITY' })).toHaveLength(extra.length);
    expect(await overQuantityCount(sys.persister?.port)).toBe(countBefore + extra.length);
    for (const u of extra) expect(await status(sys.url, u, coupon.id)).toBe('REFUSED');

    // Reconcile: the refused users are reported apart, not drift; repair re-publishes nothing.
    const found = await reconcile(ops, { couponIds: [coupon.id], graceMs: 0 });
    expect(found).toMatchObject({
      exitCode: 0,
      coupons: [{ status: 'ok', missing: 0, refused: extra.length, stockDelta: 0 }],
    });
    expect(sorted(found.coupons[0]!.samples.refused)).toEqual(sorted(extra).slice(0, 10));
    const repaired = await reconcile(ops, { couponIds: [coupon.id], graceMs: 0, repair: true });
    expect(repaired).toMatchObject({ exitCode: 0, coupons: [{ status: 'ok', missing: 0, republished: 0 }] });
    await expect.poll(() => behind(ops.admin)).toEqual([]);
    expect(await countIssues(pool, coupon.id)).toBe(quantity);
    expect(await countRefusals(pool, coupon.id)).toBe(extra.length);
  });
});

describe('quantity guard: redelivery and replay of a refused event', () => {
  it('error: a redelivered refusal reaches the DLT again but counts once; a replayed one is final', async () => {
    const { sys, ops, pool, producer } = ctx;
    const couponId = await unusedCouponId(pool);
    await createCouponRow(pool, couponId, 1);
    const [winner, loser] = userIds(2) as [number, number];
    const issued = topicNames(infra().KAFKA_TOPIC_PREFIX).issued;
    const send = (userId: number, headers?: Record<string, string>) =>
      producer.send({
        topic: issued,
        acks: -1,
        messages: [{ key: String(userId), value: eventJson(couponId, userId), headers }],
      });
    const port = sys.persister?.port;
    const before = await overQuantityCount(port);

    await send(winner);
    await expect.poll(() => countIssues(pool, couponId)).toBe(1);
    await send(loser);
    await expect.poll(() => listDlt(ops, { couponId })).toHaveLength(1);
    expect(await overQuantityCount(port)).toBe(before + 1);

    // A redelivery (no replay header: e.g. a crash between the refusal's commit and the DLT publish)
    // must still land in the DLT; the refusal is not counted again.
    await send(loser);
    await expect
      .poll(async () => (await listDlt(ops, { couponId })).map((e) => e.reason))
      .toEqual(['OVER_QUANTITY', 'OVER_QUANTITY']);
    expect(await overQuantityCount(port)).toBe(before + 1);

    // A replay (the DLT command's header) refused again makes no DLT entry and no count.
    await send(loser, { [REPLAYED_FROM_HEADER]: 'dlt/0/0' });
    await expect.poll(() => behind(ops.admin)).toEqual([]);
    expect(await listDlt(ops, { couponId })).toHaveLength(2);
    expect(await overQuantityCount(port)).toBe(before + 1);
    expect(await countIssues(pool, couponId)).toBe(1);
    expect(await countRefusals(pool, couponId)).toBe(1);
  });
});

describe('quantity guard under concurrency: batches of one coupon from other partitions', () => {
  it('happy: 8 concurrent batches of 40 new users on a coupon of 100 make exactly 100 rows', async () => {
    const { pool } = ctx;
    const couponId = await unusedCouponId(pool);
    await createCouponRow(pool, couponId, 100);
    const users = userIds(320);
    const batches = Array.from({ length: 8 }, (_, b) =>
      users.slice(b * 40, b * 40 + 40).map((userId) => ({
        couponId,
        userId,
        eventId: crypto.randomUUID(),
        issuedAt: new Date(),
      })),
    );
    const results = await Promise.all(batches.map((rows) => insertIssuesGuarded(pool, rows)));
    const verdicts = results.flatMap((r) => r.verdicts);
    expect(verdicts.filter((v) => v === 'inserted')).toHaveLength(100);
    expect(verdicts.filter((v) => v === 'refused')).toHaveLength(220);
    // Offset order inside a batch: a batch's accepted rows are a prefix of it.
    for (const r of results) {
      const k = r.verdicts.indexOf('refused');
      if (k >= 0) expect(r.verdicts.slice(k).filter((v) => v !== 'refused')).toEqual([]);
    }
    expect(await countIssues(pool, couponId)).toBe(100);
    expect(await issuedCounter(pool, couponId)).toBe(100);
    expect(await countRefusals(pool, couponId)).toBe(220);

    // Redelivery of the whole lot: rows are successes, refusals are refused again, nothing moves.
    const again = await Promise.all(batches.map((rows) => insertIssuesGuarded(pool, rows)));
    const v2 = again.flatMap((r) => r.verdicts);
    expect(v2.filter((v) => v === 'existing')).toHaveLength(100);
    expect(v2.filter((v) => v === 'refusedAgain')).toHaveLength(220);
    expect(await issuedCounter(pool, couponId)).toBe(100);
  });

  it('happy: two persisters in one group, events of one coupon spread over every partition, never over-issue', async () => {
    const { ops, pool, producer } = ctx;
    const second = await runPersister();
    try {
      // Both in the group before the events come, so the partitions are split between them.
      await expect.poll(async () => (await fetch(`http://127.0.0.1:${second.port}/ready`)).status).toBe(200);
      const firstBatches = await batches(ctx.sys.persister?.port);
      const couponId = await unusedCouponId(pool);
      await createCouponRow(pool, couponId, 150);
      const users = userIds(400);
      for (let i = 0; i < users.length; i += 100)
        await producer.send({
          topic: topicNames(infra().KAFKA_TOPIC_PREFIX).issued,
          acks: -1,
          messages: users.slice(i, i + 100).map((u) => ({ key: String(u), value: eventJson(couponId, u) })),
        });
      await expect
        .poll(() => listDlt(ops, { couponId, reason: 'OVER_QUANTITY' }), { timeout: 45_000 })
        .toHaveLength(250);
      const dlt = await listDlt(ops, { couponId, reason: 'OVER_QUANTITY' });
      expect(await countIssues(pool, couponId)).toBe(150);
      expect(await issuedCounter(pool, couponId)).toBe(150);
      expect(await duplicateIssues(pool, couponId)).toBe(0);
      const refused = new Set(dlt.map((e) => e.userId));
      const [rows] = await pool.raw.query('SELECT user_id AS u FROM coupon_issue WHERE coupon_id = ?', [
        couponId,
      ]);
      const issued = (rows as Array<{ u: number | string }>).map((r) => Number(r.u));
      expect(issued.filter((u) => refused.has(u))).toEqual([]);
      expect(new Set([...issued, ...refused]).size).toBe(400);
      // Both persisters wrote batches of this coupon, so the guard really saw concurrent writers.
      expect(await batches(second.port)).toBeGreaterThan(0);
      expect(await batches(ctx.sys.persister?.port)).toBeGreaterThan(firstBatches);
      expect(
        (await overQuantityCount(second.port)) + (await overQuantityCount(ctx.sys.persister?.port)),
      ).toBeGreaterThanOrEqual(250);
    } finally {
      await second.stop();
    }
  });
});

async function issuedCounter(pool: DbPool, couponId: number): Promise<number> {
  const [rows] = await pool.raw.query('SELECT issued FROM coupon WHERE id = ?', [couponId]);
  return Number((rows as Array<{ issued: number }>)[0]?.issued);
}
