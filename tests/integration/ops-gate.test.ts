import { gateKeys } from '@coupon/contracts';
import { countIssues, duplicateIssues, issuedUserIds } from '@coupon/db';
import { acquireGateLock, GateLockedError, gateSnapshot } from '@coupon/gate';
import { producerHorizonMs, producerTiming } from '@coupon/kit';
import { reconcile, rewarm } from '@coupon/ops';
import { describe, expect, it } from 'vitest';
import { sleep } from '../support/index.js';
import { type Answer, issue, tally, userIds } from './harness.js';
import { opsContext } from './ops-fixtures.js';

const ctx = opsContext();
const sorted = (xs: number[]) => [...xs].sort((x, y) => x - y);

describe('reconcile: injected drift is found and repaired', () => {
  it('happy: a lost event, a lost row, a lost admission; reported (exit 1), repaired, then rows == admitted', async () => {
    const { sys, ops, pool } = ctx;
    const coupon = await sys.admin.createCoupon(10);
    const users = userIds(6);
    const answers = await Promise.all(users.slice(0, 5).map((u) => issue(sys.url, u, coupon.id)));
    expect(answers.map((a) => a.status)).toEqual([202, 202, 202, 202, 202]);
    await expect.poll(() => sys.admin.stats(coupon.id)).toMatchObject({ persisted: 5 });

    const [, stock, admitted] = gateKeys(coupon.id);
    const [lostRow, lostAdmission, ghost] = [users[0]!, users[1]!, users[5]!];
    await ops.redis.multi().sadd(admitted, ghost).decr(stock).exec(); // admitted, event never produced
    await pool.raw.query('DELETE FROM coupon_issue WHERE coupon_id = ? AND user_id = ?', [
      coupon.id,
      lostRow,
    ]);
    await ops.redis.multi().srem(admitted, lostAdmission).incr(stock).exec(); // a row nobody admitted

    const found = await reconcile(ops, { couponIds: [coupon.id], graceMs: 0 });
    expect(found.exitCode).toBe(1);
    expect(found.coupons[0]).toMatchObject({
      status: 'drift',
      missing: 2,
      inFlight: 0,
      notAdmitted: 1,
      samples: { notAdmitted: [lostAdmission] },
      stockDelta: 0,
    });
    expect(sorted(found.coupons[0]!.samples.missing)).toEqual(sorted([lostRow, ghost]));

    // Within the grace period the same users are pending, not drift.
    const graced = await reconcile(ops, { couponIds: [coupon.id], graceMs: 60_000 });
    expect(graced.coupons[0]).toMatchObject({ missing: 0, pending: 2, notAdmitted: 1 });
    expect(graced.coupons[0]!.oldestMs).toBeGreaterThanOrEqual(0);

    const repaired = await reconcile(ops, { couponIds: [coupon.id], graceMs: 0, repair: true });
    expect(repaired).toMatchObject({
      exitCode: 0,
      coupons: [{ status: 'repaired', republished: 2, adopted: 1 }],
    });
    await expect.poll(() => countIssues(pool, coupon.id)).toBe(6);

    const after = await reconcile(ops, { couponIds: [coupon.id], graceMs: 0 });
    expect(after).toMatchObject({
      exitCode: 0,
      coupons: [{ status: 'ok', admitted: 6, rows: 6, remaining: 4 }],
    });
    expect(sorted(await issuedUserIds(pool, coupon.id))).toEqual(
      sorted(await ops.gate.admittedUsers(coupon.id)),
    );
    expect(await duplicateIssues(pool, coupon.id)).toBe(0);
  });

  it('error: excess stock is lowered to quantity − admitted, a missing gate is reported for rewarm', async () => {
    const { sys, ops } = ctx;
    const coupon = await sys.admin.createCoupon(5);
    expect((await issue(sys.url, userIds(1)[0]!, coupon.id)).status).toBe(202);
    await expect.poll(() => sys.admin.stats(coupon.id)).toMatchObject({ persisted: 1 });
    await ops.redis.incrby(gateKeys(coupon.id)[1], 3); // stock 7 for 4 left: the gate could over-issue

    const found = await reconcile(ops, { couponIds: [coupon.id], graceMs: 0 });
    expect(found).toMatchObject({ exitCode: 1, coupons: [{ status: 'drift', stockDelta: 3 }] });
    expect(await reconcile(ops, { couponIds: [coupon.id], repair: true })).toMatchObject({ exitCode: 0 });
    expect(await ops.redis.get(gateKeys(coupon.id)[1])).toBe('4');

    await ops.redis.del(...gateKeys(coupon.id));
    const lost = await reconcile(ops, { couponIds: [coupon.id], repair: true });
    expect(lost).toMatchObject({ exitCode: 1, coupons: [{ status: 'no gate (run rewarm)' }] });
    expect(await ops.redis.exists(...gateKeys(coupon.id))).toBe(0);
  });
});

describe('rewarm: a lost gate never re-opens sold stock', () => {
  it('happy: sold out, gate deleted → 503; rewarm by hand (before the issuer rebuilds it) → remaining 0', async () => {
    const { sys, ops } = ctx;
    const coupon = await sys.admin.createCoupon(20);
    const users = userIds(21);
    const sold = await Promise.all(users.slice(0, 20).map((u) => issue(sys.url, u, coupon.id)));
    expect(tally(sold)).toEqual({ '202': 20 });
    await expect.poll(() => sys.admin.stats(coupon.id)).toMatchObject({ persisted: 20 });

    await ops.redis.del(...gateKeys(coupon.id));
    expect((await issue(sys.url, users[20]!, coupon.id)).status).toBe(503);
    const r = await rewarm(ops, { couponId: coupon.id });
    expect(r).toMatchObject({ quantity: 20, persisted: 20, inFlight: 0, remaining: 0 });
    expect((await issue(sys.url, users[20]!, coupon.id)).body.error?.code).toBe('SOLD_OUT');
    expect((await issue(sys.url, users[0]!, coupon.id)).body.error?.code).toBe('ALREADY_ISSUED');
    await expect(rewarm(ops, { couponId: coupon.id })).rejects.toThrow(/has a gate/);
  });

  it('happy: events still in flight count as admitted; --dry-run changes nothing', async () => {
    const { sys, ops, pool } = ctx;
    const coupon = await sys.admin.createCoupon(30);
    await sys.persister?.stop();
    try {
      const answers = await Promise.all(userIds(10).map((u) => issue(sys.url, u, coupon.id)));
      expect(tally(answers)).toEqual({ '202': 10 });
      await ops.redis.del(...gateKeys(coupon.id));

      const dry = await rewarm(ops, { couponId: coupon.id, dryRun: true });
      expect(dry).toMatchObject({ remaining: 20, inFlight: 10 });
      expect(await ops.redis.exists(...gateKeys(coupon.id))).toBe(0);
      const r = await rewarm(ops, { couponId: coupon.id });
      expect(r).toMatchObject({ quantity: 30, persisted: 0, inFlight: 10, remaining: 20 });
    } finally {
      await sys.startPersister();
    }
    await expect.poll(() => countIssues(pool, coupon.id)).toBe(10);
    expect(await sys.admin.stats(coupon.id)).toMatchObject({ admitted: 10, remaining: 20, persisted: 10 });
  });
});

describe('rewarm --force on a live coupon', () => {
  it('happy: admissions made while it works are kept, the coupon answers 503 meanwhile, nobody is over-admitted', async () => {
    const { sys, ops, pool } = ctx;
    const quantity = 120;
    const coupon = await sys.admin.createCoupon(quantity);
    const users = userIds(2_000);
    const answers: Array<{ user: number; sentAt: number; a: Answer }> = [];
    let next = 0;
    let stop = false;
    const worker = async () => {
      while (!stop && next < users.length) {
        const user = users[next++]!;
        const sentAt = Date.now();
        answers.push({ user, sentAt, a: await issue(sys.url, user, coupon.id) });
        await sleep(25);
      }
    };
    const workers = Promise.all(Array.from({ length: 3 }, worker));
    await expect.poll(() => answers.filter((x) => x.a.status === 202).length).toBeGreaterThanOrEqual(20);
    const r = await rewarm(ops, { couponId: coupon.id, force: true, closeWaitMs: 1_500 });
    const doneAt = Date.now();
    const accepted = new Set(answers.filter((x) => x.a.status === 202).map((x) => x.user));
    // Every user told 202 until now is in the rebuilt gate, and stock counts them.
    const gate = await gateSnapshot(ops.redis, coupon.id);
    const admitted = new Set(gate?.admitted ?? []);
    expect([...accepted].filter((u) => !admitted.has(u))).toEqual([]);
    expect(gate?.remaining).toBe(quantity - admitted.size);
    expect(r.kept).toBeGreaterThanOrEqual(accepted.size);
    await expect
      .poll(() => answers.filter((x) => x.sentAt > doneAt && x.a.status === 202).length, {
        message: 'a 202 after the rewarm',
      })
      .toBeGreaterThan(0);
    stop = true;
    await workers;
    const granted = answers.filter((x) => x.a.status === 202).length;
    expect(granted).toBeLessThanOrEqual(quantity);
    await expect.poll(() => countIssues(pool, coupon.id)).toBe(granted);
    expect(await duplicateIssues(pool, coupon.id)).toBe(0);
    const end = await gateSnapshot(ops.redis, coupon.id);
    expect(sorted(end?.admitted ?? [])).toEqual(sorted(await issuedUserIds(pool, coupon.id)));
    const closed = answers.filter((x) => x.a.status === 503);
    expect(closed.length).toBeGreaterThan(0); // the close: a coupon-scoped 503, not a 404
    expect(answers.filter((x) => x.a.status === 404).map((x) => x.user)).toEqual([]);
  });
});

/** Sum of a metric's samples on the in-process issuer's /metrics. */
async function issuerMetric(port: number, name: string, label = ''): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return text
    .split('\n')
    .filter((l) => l.startsWith(`${name}{`) && l.includes(label))
    .reduce((n, l) => n + Number(l.split(' ').pop()), 0);
}

describe('a lost gate heals itself', () => {
  it('happy: gate deleted mid-traffic → 503 meanwhile, the issuer rebuilds it within seconds, no over-issue', async () => {
    const { sys, ops, pool } = ctx;
    const quantity = 300;
    const coupon = await sys.admin.createCoupon(quantity);
    const users = userIds(5_000);
    const rebuiltBefore = await issuerMetric(sys.issuer.port, 'coupon_gate_rebuilds_total', 'rebuilt');
    const answers: Array<{ sentAt: number; a: Answer }> = [];
    let next = 0;
    let soldOut = false;
    const worker = async () => {
      while (!soldOut && next < users.length) {
        const sentAt = Date.now();
        const a = await issue(sys.url, users[next++]!, coupon.id);
        answers.push({ sentAt, a });
        if (a.body.error?.code === 'SOLD_OUT') soldOut = true;
        await sleep(40);
      }
    };
    const workers = Promise.all(Array.from({ length: 4 }, worker));
    const accepted = () => answers.filter((x) => x.a.status === 202).length;
    await expect.poll(accepted).toBeGreaterThanOrEqual(80);

    const lostAt = Date.now();
    await ops.redis.del(...gateKeys(coupon.id));
    const healed = () => answers.find((x) => x.sentAt > lostAt && x.a.status === 202);
    await expect.poll(healed, { timeout: 45_000, message: 'a 202 after the gate was lost' }).toBeDefined();
    const healedAt = healed()?.sentAt ?? Number.NaN;
    const healMs = healedAt - lostAt;
    const during = answers.filter((x) => x.sentAt > lostAt && x.sentAt < healedAt);
    console.log(
      `gate self-heal: ${healMs} ms after the loss; meanwhile ${JSON.stringify(tally(during.map((x) => x.a)))}`,
    );
    // The producer's horizon + 1 s margin, then a few seconds of Kafka reads.
    const horizonMs = producerHorizonMs(producerTiming());
    expect(healMs).toBeGreaterThanOrEqual(horizonMs);
    expect(healMs).toBeLessThan(horizonMs + 10_000);
    expect(during.length).toBeGreaterThan(0);
    expect(during.map((x) => [x.a.status, x.a.body.error?.code])).toEqual(
      during.map(() => [503, 'UNAVAILABLE']),
    );
    expect(during[0]?.a.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);

    await workers;
    const granted = accepted();
    expect(granted).toBe(quantity);
    await expect.poll(() => countIssues(pool, coupon.id)).toBe(granted);
    expect(await duplicateIssues(pool, coupon.id)).toBe(0);
    const gate = await gateSnapshot(ops.redis, coupon.id);
    expect(gate).toMatchObject({ quantity, remaining: 0 });
    expect(sorted(gate?.admitted ?? [])).toEqual(sorted(await issuedUserIds(pool, coupon.id)));
    expect(await issuerMetric(sys.issuer.port, 'coupon_gate_rebuilds_total', 'rebuilt')).toBe(
      rebuiltBefore + 1,
    );

    // The manual command still works on the same implementation, and respects the lock.
    await ops.redis.del(...gateKeys(coupon.id));
    const lock = await acquireGateLock(ops.redis, coupon.id, 10_000);
    await expect(rewarm(ops, { couponId: coupon.id })).rejects.toBeInstanceOf(GateLockedError);
    await lock?.release();
    const r = await rewarm(ops, { couponId: coupon.id });
    expect(r).toMatchObject({ quantity, persisted: quantity, admitted: quantity, remaining: 0 });
    expect((await issue(sys.url, users[0]!, coupon.id)).body.error?.code).toBe('ALREADY_ISSUED');
  });
});
