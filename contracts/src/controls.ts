import { z } from 'zod';
import { couponView } from './api.js';
import { id } from './ids.js';

// The operator's controls at run time (docs/controls.md): list coupons, pause and
// resume one, move its window, change the limits. Every change answers its old and new values.

/** Admin: GET /admin/coupons?limit=&after= (by id, ascending). */
export const COUPON_PAGE_MAX = 200;
/** `limit` and `after` of a coupon listing (query strings, coerced). */
export const couponPageQuery = z.object({
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(COUPON_PAGE_MAX)
    .default(50)
    .meta({ description: `Coupons per page, 1 to ${COUPON_PAGE_MAX}.`, example: 50 }),
  after: z.coerce
    .number()
    .int()
    .min(0)
    .max(Number.MAX_SAFE_INTEGER)
    .default(0)
    .meta({ description: 'The `next` of the previous page (0: from the first coupon).', example: 0 }),
});
export const couponPage = z.object({
  coupons: z.array(couponView),
  /** Pass as `after` for the next page; absent on the last page. */
  next: id.optional(),
});
export type CouponPage = z.infer<typeof couponPage>;

const instant = z.iso.datetime({ offset: true });

/**
 * Admin: PATCH /admin/coupons/{couponId}/window. Either bound or both; the window that results must
 * have closesAt after opensAt (checked against the stored bound when only one is given).
 */
export const couponWindow = z
  .object({ opensAt: instant.optional(), closesAt: instant.optional() })
  .strict()
  .refine((w) => w.opensAt !== undefined || w.closesAt !== undefined, {
    message: 'give opensAt, closesAt or both',
  })
  .refine((w) => !w.opensAt || !w.closesAt || Date.parse(w.opensAt) < Date.parse(w.closesAt), {
    message: 'closesAt must be after opensAt',
    path: ['closesAt'],
  });
export type CouponWindow = z.infer<typeof couponWindow>;

/** What a change to a coupon answers: the coupon before and after. */
export const couponChange = z.object({ previous: couponView, current: couponView });
export type CouponChange = z.infer<typeof couponChange>;

/** The shared token bucket (bottleneck): sustained rate and burst, summed over every gateway when shared. */
const bucket = z
  .object({
    perSecond: z.number().int().min(1).max(10_000_000),
    burst: z.number().int().min(1).max(10_000_000),
  })
  .strict();

/** A per-client limit (rate-limiter-flexible's points per duration): `points` requests every `durationSec`. */
const clientLimit = z
  .object({
    points: z.number().int().min(1).max(1_000_000),
    durationSec: z.number().int().min(1).max(86_400),
  })
  .strict();
export type ClientLimit = z.infer<typeof clientLimit>;

/**
 * The gateways' run-time settings, one record in Redis (RUNTIME_SETTINGS_KEY) that every gateway
 * follows within a second. A field absent from the record means the gateway's own environment applies.
 */
export const runtimeSettings = z
  .object({
    /** The global bucket (RATE_LIMIT_PER_SEC / RATE_LIMIT_BURST). */
    rate: bucket.optional(),
    /** Requests per user (the verified subject). */
    perUser: clientLimit.optional(),
    /** Requests per client address. */
    perAddress: clientLimit.optional(),
    /** How long the gateway answers SOLD_OUT itself after the issuer did (EDGE_SOLD_OUT_TTL_MS; 0: off). */
    edgeSoldOutTtlMs: z.number().int().min(0).max(60_000).optional(),
  })
  .strict();
export type RuntimeSettings = z.infer<typeof runtimeSettings>;

/** Admin: PATCH /admin/settings: the fields given replace the record's (null: back to the environment's). */
export const settingsPatch = z
  .object({
    rate: bucket.nullable().optional(),
    perUser: clientLimit.nullable().optional(),
    perAddress: clientLimit.nullable().optional(),
    edgeSoldOutTtlMs: z.number().int().min(0).max(60_000).nullable().optional(),
  })
  .strict()
  .refine((p) => Object.keys(p).length > 0, { message: 'give at least one setting' });
export type SettingsPatch = z.infer<typeof settingsPatch>;

/** What GET /admin/settings answers: the record (overrides) and what this gateway applies now. */
export const settingsView = z.object({
  overrides: runtimeSettings,
  effective: z.object({
    rate: bucket,
    perUser: clientLimit.nullable(),
    perAddress: clientLimit.nullable(),
    edgeSoldOutTtlMs: z.number().int(),
  }),
});
export type SettingsView = z.infer<typeof settingsView>;

export const settingsChange = z.object({ previous: runtimeSettings, current: runtimeSettings });
export type SettingsChange = z.infer<typeof settingsChange>;

/** Header naming the person behind an admin change, for the change log (the token authenticates). */
export const ADMIN_ACTOR_HEADER = 'x-admin-actor';
