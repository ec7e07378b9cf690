import { COUPON_ADMIN } from '@coupon/contracts';
import { type Env, routeOf } from '@coupon/kit';
import type { OpenAPIHono } from '@hono/zod-openapi';
import {
  type CouponDeps,
  changeCoupon,
  couponStats,
  createCoupon,
  getCoupon,
  listCoupons,
  view,
  windowControls,
} from '../coupons.js';
import { INTERNAL_COUPONS } from './common.js';

const route = <O extends (typeof COUPON_ADMIN)[keyof typeof COUPON_ADMIN]>(op: O, summary: string) =>
  routeOf(op, INTERNAL_COUPONS, { summary });

/**
 * The coupon operations the gateway forwards (contracts' COUPON_ADMIN), carried out here: in MySQL,
 * then in the gate every issuer reads.
 */
export function registerCouponAdmin(internal: OpenAPIHono<Env>, deps: CouponDeps): void {
  const ops = COUPON_ADMIN;
  internal.openapi(
    route(ops.createCoupon, 'Create a coupon: the row in MySQL first, then its gate in Redis'),
    async (c) => c.json(await createCoupon(deps, c.req.valid('json')), 201),
  );
  internal.openapi(route(ops.listCoupons, 'Coupons from MySQL, by id, a page at a time'), async (c) => {
    const { after, limit } = c.req.valid('query');
    return c.json(await listCoupons(deps, after, limit), 200);
  });
  internal.openapi(route(ops.getCoupon, 'A coupon, from MySQL'), async (c) =>
    c.json(view(await getCoupon(deps, c.req.valid('param').couponId)), 200),
  );
  internal.openapi(
    route(ops.couponStats, "A coupon's gate (Redis), rows (MySQL), DLT and refused counts"),
    async (c) => c.json(await couponStats(deps, c.req.valid('param').couponId), 200),
  );
  const pause = 'Kill switch: nobody is admitted (COUPON_PAUSED) until resumed; in MySQL and the gate';
  for (const [op, paused, summary] of [
    [ops.pauseCoupon, true, pause],
    [ops.resumeCoupon, false, 'Lift the kill switch'],
  ] as const)
    internal.openapi(route(op, summary), async (c) =>
      c.json(await changeCoupon(deps, c.req.valid('param').couponId, { paused }), 200),
    );
  internal.openapi(
    route(ops.moveCouponWindow, "Move a coupon's window (opensAt, closesAt); in MySQL and the gate"),
    async (c) =>
      c.json(
        await changeCoupon(deps, c.req.valid('param').couponId, windowControls(c.req.valid('json'))),
        200,
      ),
  );
}
