import {
  AppError,
  type CouponChange,
  type CouponPage,
  type CouponStats,
  type CouponView,
  type CouponWindow,
  type CreateCoupon,
  dltCountKey,
  type IssueState,
} from '@coupon/contracts';
import {
  type Coupon,
  classify,
  countIssues,
  countRefusals,
  type DbPool,
  findCoupon,
  insertCoupon,
  issueRecord,
  listCoupons as listCouponRows,
  updateCouponControls,
} from '@coupon/db';
import type { Gate, GateControls } from '@coupon/gate';
import type { Redis } from 'ioredis';

const FAR_FUTURE = new Date('2999-12-31T00:00:00Z');

export function view(c: Coupon): CouponView {
  return {
    id: c.id,
    name: c.name,
    quantity: c.quantity,
    opensAt: c.opensAt.toISOString(),
    closesAt: c.closesAt.toISOString(),
    paused: c.paused,
  };
}

/** A read that failed because the database (or the replica) is unreachable: an honest 503, not a 500. */
async function read<T>(q: Promise<T>): Promise<T> {
  try {
    return await q;
  } catch (err) {
    if (classify(err).retry)
      throw new AppError('UNAVAILABLE', 'the database is unavailable, try again shortly', {
        retryable: true,
        cause: err,
      });
    throw err;
  }
}

export interface CouponDeps {
  /** The writer: coupon creation and anything that decides. */
  pool: DbPool;
  /** A replica (or the writer): the status endpoint and the statistics, which may lag a little. */
  readPool: DbPool;
  gate: Gate;
  redis: Redis;
}

/** Admin: the row in MySQL first (source of truth), then the gate in Redis. */
export async function createCoupon(deps: CouponDeps, input: CreateCoupon): Promise<CouponView> {
  const row = await insertCoupon(deps.pool, {
    name: input.name,
    quantity: input.quantity,
    opensAt: input.opensAt ? new Date(input.opensAt) : new Date(),
    closesAt: input.closesAt ? new Date(input.closesAt) : FAR_FUTURE,
  });
  await deps.gate.load(row);
  return view(row);
}

export async function getCoupon(deps: CouponDeps, couponId: number): Promise<Coupon> {
  // A replica that has not applied the coupon's creation yet must not answer a final 404: ask the writer.
  const c =
    (await read(findCoupon(deps.readPool, couponId))) ??
    (deps.readPool === deps.pool ? undefined : await read(findCoupon(deps.pool, couponId)));
  if (!c) throw new AppError('COUPON_NOT_FOUND', `coupon ${couponId} does not exist`);
  return c;
}

export async function couponStats(deps: CouponDeps, couponId: number): Promise<CouponStats> {
  const c = await getCoupon(deps, couponId);
  const [state, persisted, dlt, refused] = await Promise.all([
    deps.gate.state(couponId),
    read(countIssues(deps.readPool, couponId)),
    deps.redis.get(dltCountKey(couponId)),
    read(countRefusals(deps.readPool, couponId)),
  ]);
  return {
    couponId,
    quantity: c.quantity,
    admitted: state?.admitted ?? 0,
    remaining: state?.remaining ?? 0,
    persisted,
    dlt: Number(dlt ?? 0),
    refused,
  };
}

/**
 * ISSUED when the row exists, REFUSED when MySQL's quantity guard refused it (the gate admitted more
 * users than the quantity), PENDING when admitted but not yet persisted, else NONE.
 */
export async function issueState(deps: CouponDeps, couponId: number, userId: number): Promise<IssueState> {
  const record = await read(issueRecord(deps.readPool, couponId, userId));
  if (record) return record;
  return (await deps.gate.isAdmitted(couponId, userId)) ? 'PENDING' : 'NONE';
}

/** Admin: a page of coupons by id, ascending. */
export async function listCoupons(deps: CouponDeps, after: number, limit: number): Promise<CouponPage> {
  // One more than asked tells whether another page follows.
  const rows = await listCouponRows(deps.pool, after, limit + 1);
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return { coupons: page.map(view), ...(rows.length > limit && last ? { next: last.id } : {}) };
}

/**
 * Admin: the kill switch or the window, in MySQL first (under the row lock; a rebuilt gate reads it
 * from there), then in the live gate's meta, which the admit script reads atomically with the stock:
 * every issuer follows at once. Should Redis fail after the commit the answer is 503 and a retry of
 * the same change completes it.
 */
export async function changeCoupon(
  deps: CouponDeps,
  couponId: number,
  controls: GateControls,
): Promise<CouponChange> {
  const changed = await updateCouponControls(deps.pool, couponId, controls, (_, after) => {
    if (after.closesAt.getTime() <= after.opensAt.getTime())
      throw new AppError(
        'INVALID_REQUEST',
        `closesAt (${after.closesAt.toISOString()}) must be after opensAt (${after.opensAt.toISOString()})`,
      );
  });
  if (!changed) throw new AppError('COUPON_NOT_FOUND', `coupon ${couponId} does not exist`);
  try {
    await deps.gate.setControls(couponId, controls);
  } catch (err) {
    throw new AppError('UNAVAILABLE', 'the change is in MySQL but not yet in the gate: send it again', {
      retryable: true,
      cause: err,
    });
  }
  return { previous: view(changed.before), current: view(changed.after) };
}

/** The window of a PATCH …/window as dates (a bound not given stays as stored). */
export function windowControls(w: CouponWindow): GateControls {
  return {
    ...(w.opensAt ? { opensAt: new Date(w.opensAt) } : {}),
    ...(w.closesAt ? { closesAt: new Date(w.closesAt) } : {}),
  };
}
