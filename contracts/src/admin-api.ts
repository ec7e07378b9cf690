import { z } from 'zod';
import { couponStats, couponView, createCoupon } from './api.js';
import {
  ADMIN_ACTOR_HEADER,
  couponChange,
  couponPage,
  couponPageQuery,
  couponWindow,
  settingsChange,
  settingsPatch,
  settingsView,
} from './controls.js';
import { couponIdParam } from './ids.js';
import { type ErrorAnswer, operations } from './operation.js';

// The operator's API, declared once (docs/controls.md). The gateway serves it under ADMIN_BASE behind
// ADMIN_TOKEN; the coupon operations it forwards to the issuer, which serves them under INTERNAL_BASE.
// Both build their routes and documents from these; adminClient calls them.

/** Where the gateway serves the admin API. */
export const ADMIN_BASE = '/admin';
/** Where the issuer serves the gateway's calls, the coupon operations below among them. */
export const INTERNAL_BASE = '/internal';

/** `x-admin-actor`: who makes a change, for the change log (the bearer token authenticates). */
export const actorHeaders = z.object({
  [ADMIN_ACTOR_HEADER]: z
    .string()
    .regex(/^[A-Za-z0-9._@:+-]{1,64}$/, '1 to 64 letters, digits or ._@:+-')
    .optional()
    .meta({
      description: "Who makes the change, for the change log (default: the token's name, ADMIN_TOKEN).",
    }),
});

const unknownCoupon: ErrorAnswer = { description: 'Unknown coupon', codes: ['COUPON_NOT_FOUND'] };
/** An operation on one coupon: its id in the path, 404 when there is no such coupon. */
const oneCoupon = { params: z.object({ couponId: couponIdParam }), errors: { 404: unknownCoupon } } as const;
const changed = { status: 200, description: 'The coupon before and after.', schema: couponChange } as const;

/** The coupon operations: the gateway checks the token and the input, the issuer carries them out. */
export const COUPON_ADMIN = operations({
  listCoupons: {
    method: 'get',
    path: '/coupons',
    summary: 'Coupon events by id, a page at a time',
    description: "Pass the answer's `next` as `after` for the following page; the last page has no `next`.",
    query: couponPageQuery,
    ok: { status: 200, description: 'A page of coupons.', schema: couponPage },
  },
  createCoupon: {
    method: 'post',
    path: '/coupons',
    summary: 'Create a coupon event',
    description:
      'Writes the coupon to MySQL, then loads its gate into Redis. The window defaults to now … forever.',
    body: createCoupon,
    ok: { status: 201, description: 'Created.', schema: couponView },
  },
  getCoupon: {
    method: 'get',
    path: '/coupons/{couponId}',
    summary: 'A coupon event',
    ...oneCoupon,
    ok: { status: 200, description: 'The coupon.', schema: couponView },
  },
  couponStats: {
    method: 'get',
    path: '/coupons/{couponId}/stats',
    summary: 'Admitted, remaining, persisted, DLT and refused counts of a coupon',
    ...oneCoupon,
    ok: { status: 200, description: 'The counts.', schema: couponStats },
  },
  pauseCoupon: {
    method: 'post',
    path: '/coupons/{couponId}/pause',
    summary: 'Pause a coupon (kill switch)',
    description:
      'Every issuer refuses admissions at once with 409 `COUPON_PAUSED` until the coupon is resumed. ' +
      'The flag is in MySQL and in the gate Redis holds, so a rebuilt gate keeps it. Logged and counted.',
    ...oneCoupon,
    ok: changed,
    change: 'pause',
  },
  resumeCoupon: {
    method: 'post',
    path: '/coupons/{couponId}/resume',
    summary: 'Resume a paused coupon',
    description: 'Admissions resume at once on every issuer. Logged and counted.',
    ...oneCoupon,
    ok: changed,
    change: 'resume',
  },
  moveCouponWindow: {
    method: 'patch',
    path: '/coupons/{couponId}/window',
    summary: "Move a coupon's window",
    description:
      'Either bound or both; the window that results must close after it opens. Takes effect at once ' +
      'on every issuer (MySQL and the gate). Logged and counted.',
    ...oneCoupon,
    body: couponWindow,
    invalid: 'closesAt not after opensAt',
    ok: changed,
    change: 'move_window',
  },
});

/** The gateways' run-time settings: the gateway serves them itself (a record in Redis). */
export const SETTINGS_ADMIN = operations({
  getSettings: {
    method: 'get',
    path: '/settings',
    summary: "The gateways' run-time settings: the overrides, and what this gateway applies",
    ok: { status: 200, description: 'The settings.', schema: settingsView },
  },
  changeSettings: {
    method: 'patch',
    path: '/settings',
    summary: 'Change the rate limits at run time, on every gateway within a second',
    description:
      '`rate`: the global token bucket (per gateway, or shared with RATE_LIMIT_SHARED). `perUser`, ' +
      '`perAddress`: the per-client limits, `points` requests per `durationSec`. `edgeSoldOutTtlMs`: ' +
      'how long the gateway answers SOLD_OUT itself (0: off). The fields given replace the stored ones; ' +
      "null removes one (back to the gateway's environment). No restart. Logged and counted.",
    body: settingsPatch,
    ok: { status: 200, description: 'The stored overrides before and after.', schema: settingsChange },
    change: 'settings',
  },
});

export const ADMIN_API = { ...COUPON_ADMIN, ...SETTINGS_ADMIN };

type Declared = (typeof ADMIN_API)[keyof typeof ADMIN_API];
export type AdminChange = Extract<Declared, { change: string }>['change'];
/** The changes the gateway logs and counts (admin_changes_total{action}). */
export const ADMIN_CHANGES = Object.values(ADMIN_API).flatMap((op) =>
  'change' in op ? [op.change] : [],
) as AdminChange[];
