import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dltCountKey } from '@coupon/contracts';
import { countIssues, duplicateIssues } from '@coupon/db';
import { listDlt, replayDlt } from '@coupon/ops';
import { describe, expect, it } from 'vitest';
import { sleep } from '../support/index.js';
import { infra, topics, userIds } from './harness.js';
import { createCouponRow, eventJson, opsContext, unusedCouponId } from './ops-fixtures.js';

const ctx = opsContext();

describe('dlt: poison lands in the DLT, replay brings the corrected event in exactly once', () => {
  it('happy: FK failure → NON_RETRYABLE; once the coupon exists a replay makes one row, twice still one', async () => {
    const { ops, pool, producer } = ctx;
    const [a, b] = [await unusedCouponId(pool), (await unusedCouponId(pool)) + 1_000];
    const [user] = userIds(1) as [number];
    const key = String(user); // one key: all three share a partition, the unreplayable one first
    const messages = [
      { key, value: 'not json {' },
      { key, value: eventJson(a, user) },
      { key, value: eventJson(b, user) },
    ];
    await producer.send({ topic: topics().issued, acks: -1, messages });

    await expect.poll(() => listDlt(ops, { couponId: a })).toHaveLength(1);
    const listed = await listDlt(ops, { couponId: a });
    expect(listed[0]).toMatchObject({
      reason: 'NON_RETRYABLE',
      couponId: a,
      userId: user,
      key,
      replayed: false,
    });
    expect(listed[0]!.error).toEqual(expect.any(String));
    expect(listed[0]!.attempts).toBeGreaterThanOrEqual(1);
    expect(Date.parse(listed[0]!.firstFailureAt ?? '')).toBeGreaterThan(0);
    const invalid = (await listDlt(ops, { reason: 'SCHEMA_INVALID' })).filter((e) => e.key === key);
    expect(invalid).toHaveLength(1);
    expect(invalid[0]).toMatchObject({
      error: 'value is not JSON',
      attempts: 1,
      couponId: undefined,
      value: 'not json {',
    });
    expect(invalid[0]!.firstFailureAt).toEqual(expect.any(String));
    await expect.poll(() => listDlt(ops, { couponId: b })).toHaveLength(1);
    expect(await ops.redis.get(dltCountKey(a))).toBe('1');

    await createCouponRow(pool, a, 10);
    await createCouponRow(pool, b, 10);
    expect(await replayDlt(ops, { couponId: a })).toMatchObject({ replayed: 1, dryRun: false });
    await expect.poll(() => countIssues(pool, a)).toBe(1);
    expect(await ops.redis.get(dltCountKey(a))).toBe('0');

    expect(await replayDlt(ops, { couponId: a })).toMatchObject({ replayed: 0, alreadyReplayed: 1 });
    // b was skipped by the replays of a (another coupon) and is still there for its own filter.
    expect(await replayDlt(ops, { couponId: b })).toMatchObject({ replayed: 1 });
    await expect.poll(() => countIssues(pool, b)).toBe(1);
    await sleep(1_000);
    expect(await countIssues(pool, a)).toBe(1);
    expect(await duplicateIssues(pool, a)).toBe(0);
    expect((await listDlt(ops, { couponId: a }))[0]?.replayed).toBe(true);
  });

  it('happy: --limit re-publishes at most n records; the rest stay for the next run', async () => {
    const { ops, pool, producer } = ctx;
    const couponId = await unusedCouponId(pool);
    const users = userIds(3);
    const messages = users.map((u) => ({ key: String(u), value: eventJson(couponId, u) }));
    await producer.send({ topic: topics().issued, acks: -1, messages });
    await expect.poll(() => listDlt(ops, { couponId })).toHaveLength(3);
    await createCouponRow(pool, couponId, 10);

    expect(await replayDlt(ops, { couponId, limit: 2 })).toMatchObject({ replayed: 2 });
    expect(await replayDlt(ops, { couponId, limit: 2 })).toMatchObject({ replayed: 1 });
    expect(await replayDlt(ops, { couponId })).toMatchObject({ replayed: 0 });
    await expect.poll(() => countIssues(pool, couponId)).toBe(3);
  });
});

describe('the built CLI', () => {
  const root = fileURLToPath(new URL('../../', import.meta.url));
  const main = 'tools/ops/dist/main.js';
  const cli = (...args: string[]) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      const env = { ...process.env, ...infra() };
      execFile(process.execPath, [main, ...args], { cwd: root, env }, (err, stdout, stderr) =>
        resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }),
      );
    });

  it('error: an unknown command or a bad option prints usage on stderr and exits 2', async () => {
    expect(existsSync(`${root}${main}`), 'build first: pnpm turbo run build').toBe(true);
    const r = await cli('bogus');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown command 'bogus'/);
    expect(r.stderr).toMatch(/Usage: coupon-ops/);
    expect((await cli('dlt', 'list', '--limit', 'x')).code).toBe(2);
  });

  it('happy: dlt replay --dry-run reports the record and changes nothing', async () => {
    const { ops, pool, producer } = ctx;
    const couponId = await unusedCouponId(pool);
    const [user] = userIds(1) as [number];
    const messages = [{ key: String(user), value: eventJson(couponId, user) }];
    await producer.send({ topic: topics().issued, acks: -1, messages });
    await expect.poll(() => listDlt(ops, { couponId })).toHaveLength(1);
    const snapshot = async () => ({
      committed: await ops.admin.fetchOffsets({ groupId: ops.replayGroup, topics: [topics().issuedDlt] }),
      issued: await ops.admin.fetchTopicOffsets(topics().issued),
      counter: await ops.redis.get(dltCountKey(couponId)),
    });
    const before = await snapshot();

    const r = await cli('dlt', 'replay', '--dry-run', '--coupon', String(couponId));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/dry run: scanned \d+, would replay 1,/);
    expect(await snapshot()).toEqual(before);
    const listed = await cli('dlt', 'list', '--json', '--coupon', String(couponId));
    expect(JSON.parse(listed.stdout)).toMatchObject([
      { couponId, userId: user, reason: 'NON_RETRYABLE', replayed: false },
    ]);
  });
});
