import {
  decodeIssuedEvent,
  encodeIssuedEvent,
  gateKeys,
  newIssuedEvent,
  reconcileGraceKey,
  reconcileLockKey,
  type TopicNames,
} from '@coupon/contracts';
import { countSettled, type DbPool, findCoupon, issuedUserIdsAfter, settledAmong } from '@coupon/db';
import type { Redis } from 'ioredis';
import type { Admin, Kafka, Producer } from 'kafkajs';
import { rangesFromGroup, readRanges } from './kafka-read.js';
import { acquireLock, type GateLock, keepGateLock } from './lock.js';
import { evalScript } from './lua.js';
import { RECONCILE_AGE, RECONCILE_CLAIM } from './scripts.js';
import { adoptRows } from './snapshot.js';

export interface ReconcileDeps {
  redis: Redis;
  pool: DbPool;
  kafka: Kafka;
  topics: TopicNames;
  /** A connected admin client; asked for only when a coupon has overdue candidates. */
  admin(): Promise<Admin>;
  /** A connected idempotent producer; asked for only when there is something to republish. */
  producer(): Promise<Producer>;
  signal?: AbortSignal;
}

export interface ReconcileOptions {
  /** Republish, adopt and lower stock; without it only report (the grace bookkeeping still runs). */
  repair: boolean;
  /** An admitted user without a row counts as missing only this long after a round first saw it. */
  graceMs: number;
  /** At most this many republished events plus adopted rows in this call; the rest waits for the next. */
  maxRepairs?: number;
  /** Skip the comparison when the counts already agree (SCARD = rows + refusals, no stock Δ, no grace entries). */
  quick?: boolean;
  /** How long to wait for another reconcile of the coupon to finish (0: report 'busy' at once). */
  lockWaitMs?: number;
  /** Give up a Kafka read that makes no progress for this long. */
  kafkaIdleMs?: number;
}

export type ReconcileStatus =
  | 'ok'
  | 'drift'
  | 'repaired'
  | 'no gate (run rewarm)'
  | 'no coupon in MySQL (a gate without its row: restore the row or delete the gate)'
  | 'busy';

/** Counts, plus at most SAMPLE ids of each kind: a report stays small whatever the coupon's size. */
export interface CouponReconcile {
  couponId: number;
  status: ReconcileStatus;
  /** 'quick': the counts agreed, nothing compared user by user. */
  checked: 'quick' | 'full';
  quantity: number;
  remaining: number;
  admitted: number;
  rows: number;
  /** Admitted, no row, no refusal, no event in flight, past the grace: drift (republished with repair). */
  missing: number;
  /** Admitted, no row or refusal yet, within the grace: not drift. */
  pending: number;
  /** Past the grace, but its event is in the topic beyond the persister's committed offsets: not drift. */
  inFlight: number;
  /** A row in MySQL whose user is not in the admitted set (adopted with repair). */
  notAdmitted: number;
  /** Admitted, no row, refused by MySQL's quantity guard: final, never republished. */
  refused: number;
  /** remaining − (quantity − admitted): above 0 the gate could over-issue, below 0 it under-issues. */
  stockDelta: number;
  /** Age of the oldest admission without a row or refusal (ms since a round first saw it). */
  oldestMs: number;
  republished: number;
  adopted: number;
  samples: { missing: number[]; notAdmitted: number[]; refused: number[] };
}

/** Admitted users (and rows) compared per chunk: SSCAN COUNT, IN (...) lists, SMISMEMBER, adopt calls. */
const CHUNK = 10_000;
const SAMPLE = 10;
/**
 * Short and renewed while a pass works (keepGateLock): a holder that died, or lost its Redis in a
 * failover, blocks the coupon's reconcile this long at most, not a whole settle window.
 */
const RECONCILE_LOCK_TTL_MS = 15_000;
/** A pass still running after this long is stuck: its lock is no longer renewed and lapses. */
const RECONCILE_MAX_PASS_MS = 10 * 60_000;

/**
 * The reconcile rule, the one implementation (the issuer's automatic reconcile and `coupon-ops
 * reconcile`), for one coupon under its reconcile lock. Every admitted user in Redis with neither a
 * row, nor a refusal, nor an event in flight once the grace has passed is republished (a new event,
 * requestId 'reconcile'); rows whose users are not admitted are adopted, and stock above
 * quantity − admitted is lowered. Stock is never raised and refused users are never touched.
 * Memory stays bounded: the admitted set is read with SSCAN and each chunk looked up in MySQL, the
 * rows are paged and checked with SMISMEMBER, and only the overdue users (at most maxRepairs) are kept.
 * Kafka is read only when there are overdue users.
 */
export async function reconcileCoupon(
  deps: ReconcileDeps,
  couponId: number,
  opts: ReconcileOptions,
): Promise<CouponReconcile> {
  const lock = await lockFor(deps, couponId, opts.lockWaitMs ?? 0);
  if (!lock) return blankReport(couponId, 'busy');
  const kept = keepGateLock(lock);
  const cap = setTimeout(() => kept.stop(), RECONCILE_MAX_PASS_MS);
  cap.unref();
  const lockedAt = Date.now();
  try {
    return await underLock(deps, couponId, opts, () => {
      // Repairs only while the lock holds: a renewal that found it lost stops the pass there.
      if (kept.signal.aborted || Date.now() - lockedAt > RECONCILE_MAX_PASS_MS)
        throw new Error(`coupon ${couponId}: reconcile lock lost`);
    });
  } finally {
    clearTimeout(cap);
    kept.stop();
    await lock.release().catch(() => false);
  }
}

async function underLock(
  deps: ReconcileDeps,
  couponId: number,
  opts: ReconcileOptions,
  assertLocked: () => void,
): Promise<CouponReconcile> {
  const { redis, pool } = deps;
  const [meta, stock, users] = gateKeys(couponId);
  const graceKey = reconcileGraceKey(couponId);
  const replies = await redis.multi().hget(meta, 'quantity').get(stock).scard(users).hlen(graceKey).exec();
  if (!replies) throw new Error('redis transaction aborted');
  for (const [err] of replies) if (err) throw err;
  const [q, left, card, graced] = replies.map(([, v]) => v) as [string | null, string | null, number, number];
  if (q === null) return blankReport(couponId, 'no gate (run rewarm)');
  // A gate whose coupon has no row (a database restored from before it, or another database's gate
  // in a shared Redis): every event republished for it would fail its foreign key into the DLT.
  // Nothing is repaired; the report says so, and the admissions stay in the gate meanwhile.
  if (!(await findCoupon(pool, couponId)))
    return blankReport(
      couponId,
      'no coupon in MySQL (a gate without its row: restore the row or delete the gate)',
    );
  const r = blankReport(couponId, 'ok');
  r.quantity = Number(q);
  r.remaining = Number(left ?? 0);
  r.admitted = Number(card);
  r.stockDelta = r.remaining - Math.max(0, r.quantity - r.admitted);
  const budget = { left: opts.maxRepairs ?? Number.POSITIVE_INFINITY };

  if (opts.quick) {
    const counts = await countSettled(pool, couponId);
    if (r.admitted === counts.rows + counts.refused && r.stockDelta === 0 && Number(graced) === 0) {
      r.checked = 'quick';
      r.rows = counts.rows;
      r.refused = counts.refused;
      return r;
    }
  }

  // Redis first, then MySQL: a user admitted and persisted in between shows as a row (not missing).
  const overdue = new Set<number>();
  const cap = Math.min(budget.left, 1_000_000);
  for await (const chunk of scanChunks(redis, 'sscan', users)) {
    const ids = [...new Set(chunk.map(Number))];
    const settled = await settledAmong(pool, couponId, ids);
    const candidates: number[] = [];
    for (const u of ids) {
      if (settled.issued.has(u)) continue;
      if (settled.refused.has(u)) {
        r.refused++;
        sample(r.samples.refused, u);
      } else candidates.push(u);
    }
    if (candidates.length === 0) continue;
    const [pending, oldest, late] = (await evalScript(
      redis,
      RECONCILE_AGE,
      { users, grace: graceKey },
      { graceMs: opts.graceMs },
      candidates,
    )) as [number, number, string[]];
    r.pending += Number(pending);
    r.oldestMs = Math.max(r.oldestMs, Number(oldest));
    for (const u of late) if (overdue.size < cap) overdue.add(Number(u));
    r.missing += late.length; // overdue for now; those found settled or in flight move below
  }

  await compareRows(deps, couponId, r, opts.repair, budget, assertLocked);
  if (Number(graced) > 0) await forgetSettled(deps, couponId);
  if (overdue.size > 0) await settleOverdue(deps, couponId, r, [...overdue], opts, budget, assertLocked);
  if (opts.repair && r.stockDelta > 0 && r.adopted === 0) {
    assertLocked();
    await adoptRows(redis, couponId, []);
  }

  const drift = r.missing > 0 || r.notAdmitted > 0 || r.stockDelta !== 0;
  if (!drift) return r;
  const allDone = r.republished >= r.missing && r.adopted >= r.notAdmitted && r.stockDelta >= 0;
  r.status = opts.repair && allDone ? 'repaired' : 'drift';
  return r;
}

/** Rows whose user the gate does not hold: counted, sampled, adopted with repair (within the budget). */
async function compareRows(
  deps: ReconcileDeps,
  couponId: number,
  r: CouponReconcile,
  repair: boolean,
  budget: { left: number },
  assertLocked: () => void,
): Promise<void> {
  const users = gateKeys(couponId)[2];
  for (let after = 0; ; ) {
    const page = await issuedUserIdsAfter(deps.pool, couponId, after, CHUNK);
    if (page.length === 0) return;
    after = page[page.length - 1] as number;
    r.rows += page.length;
    const member = await deps.redis.smismember(users, ...page);
    const strays = page.filter((_, i) => member[i] !== 1);
    r.notAdmitted += strays.length;
    for (const u of strays) sample(r.samples.notAdmitted, u);
    const take = strays.slice(0, Math.max(0, budget.left));
    if (repair && take.length > 0) {
      assertLocked();
      await adoptRows(deps.redis, couponId, take);
      r.adopted += take.length;
      budget.left -= take.length;
    }
    if (page.length < CHUNK) return;
  }
}

/**
 * Overdue users: read again from MySQL (rows written since the scan), then looked for in the topic
 * beyond the persister's committed offsets, which are read first (as the rebuild does): an event
 * committed after that read is in the range, one committed before has its row in the re-read.
 * The rest is missing; with repair it is claimed (grace restarted, atomically with the check) and
 * republished. Users in flight are claimed too, so the topic is read again only after another grace.
 */
async function settleOverdue(
  deps: ReconcileDeps,
  couponId: number,
  r: CouponReconcile,
  overdue: number[],
  opts: ReconcileOptions,
  budget: { left: number },
  assertLocked: () => void,
): Promise<void> {
  const admin = await deps.admin();
  const ranges = await rangesFromGroup(admin, deps.topics.issued, deps.topics.persisterGroup);
  const still: number[] = [];
  for (let i = 0; i < overdue.length; i += CHUNK) {
    const ids = overdue.slice(i, i + CHUNK);
    const settled = await settledAmong(deps.pool, couponId, ids);
    for (const u of ids) if (!settled.issued.has(u) && !settled.refused.has(u)) still.push(u);
  }
  r.missing -= overdue.length - still.length;
  const wanted = new Set(still);
  const flying = new Set<number>();
  if (still.length > 0)
    await readRanges(deps.kafka, {
      topic: deps.topics.issued,
      ranges,
      signal: deps.signal,
      idleTimeoutMs: opts.kafkaIdleMs,
      onBatch: async ({ messages }) => {
        for (const m of messages) {
          const d = decodeIssuedEvent(m.value);
          if (d.ok && d.event.couponId === couponId && wanted.has(d.event.userId)) flying.add(d.event.userId);
        }
        return undefined;
      },
    });
  r.inFlight = flying.size;
  r.missing -= flying.size;
  const missing = still.filter((u) => !flying.has(u));
  for (const u of missing) sample(r.samples.missing, u);
  if (!opts.repair) return;

  assertLocked();
  const users = gateKeys(couponId)[2];
  const claim = async (ids: number[]): Promise<number[]> => {
    if (ids.length === 0) return [];
    const keys = { users, grace: reconcileGraceKey(couponId) };
    const claimed = await evalScript(deps.redis, RECONCILE_CLAIM, keys, { graceMs: opts.graceMs }, ids);
    return (claimed as string[]).map(Number);
  };
  await claim([...flying]);
  const republish = missing.slice(0, Math.max(0, budget.left));
  for (let i = 0; i < republish.length; i += CHUNK) {
    const ids = republish.slice(i, i + CHUNK);
    const claimed = await claim(ids);
    // Not claimed: released (or claimed by another round) since the scan, so no longer missing.
    r.missing -= ids.length - claimed.length;
    if (claimed.length === 0) continue;
    await publish(await deps.producer(), deps.topics.issued, couponId, claimed);
    r.republished += claimed.length;
    budget.left -= claimed.length;
  }
}

/** Grace entries of users no longer waiting (a row, a refusal, or no longer admitted) are dropped. */
async function forgetSettled(deps: ReconcileDeps, couponId: number): Promise<void> {
  const key = reconcileGraceKey(couponId);
  const users = gateKeys(couponId)[2];
  for await (const chunk of scanChunks(deps.redis, 'hscan', key)) {
    const ids = chunk.filter((_, i) => i % 2 === 0).map(Number);
    const member = await deps.redis.smismember(users, ...ids);
    const settled = await settledAmong(deps.pool, couponId, ids);
    const gone = ids.filter((u, i) => member[i] !== 1 || settled.issued.has(u) || settled.refused.has(u));
    if (gone.length > 0) await deps.redis.hdel(key, ...gone.map(String));
  }
}

/** New events for admitted users without a row: a new eventId, issued now, requestId 'reconcile'. */
async function publish(producer: Producer, topic: string, couponId: number, users: number[]): Promise<void> {
  const messages = users.map((userId) => encodeIssuedEvent(newIssuedEvent(couponId, userId, 'reconcile')));
  await producer.send({ topic, acks: -1, messages });
}

/** SSCAN or HSCAN a key in chunks (an element may come twice if the key is rehashed meanwhile). */
async function* scanChunks(redis: Redis, kind: 'sscan' | 'hscan', key: string): AsyncGenerator<string[]> {
  let cursor = '0';
  do {
    const [next, items] = await redis[kind](key, cursor, 'COUNT', CHUNK);
    cursor = next;
    if (items.length > 0) yield items;
  } while (cursor !== '0');
}

async function lockFor(deps: ReconcileDeps, couponId: number, waitMs: number): Promise<GateLock | undefined> {
  const until = Date.now() + waitMs;
  for (;;) {
    const lock = await acquireLock(deps.redis, reconcileLockKey(couponId), couponId, RECONCILE_LOCK_TTL_MS);
    if (lock || Date.now() >= until || deps.signal?.aborted) return lock;
    await new Promise((ok) => setTimeout(ok, 100));
  }
}

function sample(into: number[], u: number): void {
  if (into.length < SAMPLE) into.push(u);
}

/** A report with every count at 0 (a coupon that was not compared, or before the comparison). */
export function blankReport(couponId: number, status: ReconcileStatus): CouponReconcile {
  return {
    couponId,
    status,
    checked: 'full',
    quantity: 0,
    remaining: 0,
    admitted: 0,
    rows: 0,
    missing: 0,
    pending: 0,
    inFlight: 0,
    notAdmitted: 0,
    refused: 0,
    stockDelta: 0,
    oldestMs: 0,
    republished: 0,
    adopted: 0,
    samples: { missing: [], notAdmitted: [], refused: [] },
  };
}
