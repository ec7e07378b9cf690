import { z } from 'zod';
import { id } from './ids.js';

/** What the gate decided for one request. The gateway maps each to an HTTP status. */
export const ISSUE_OUTCOMES = [
  'ISSUED',
  'ALREADY_ISSUED',
  'SOLD_OUT',
  'COUPON_NOT_FOUND',
  'COUPON_NOT_OPEN',
  'COUPON_PAUSED',
] as const;
export type IssueOutcome = (typeof ISSUE_OUTCOMES)[number];

/** Internal API: gateway → issuer, POST /internal/issue. */
export const issueRequest = z.object({
  couponId: id,
  userId: id,
  requestId: z.string().min(1).max(128),
});
export type IssueRequest = z.infer<typeof issueRequest>;

export const issueResponse = z.object({
  outcome: z.enum(ISSUE_OUTCOMES),
  eventId: z.uuid().optional(),
});
export type IssueResponse = z.infer<typeof issueResponse>;

/** Largest batch the issuer takes in one POST /internal/issue-batch. */
export const ISSUE_BATCH_MAX = 1_000;

/**
 * Internal API: gateway → issuer, POST /internal/issue-batch. The gateway gathers the issue requests
 * that arrive within its linger into one call (docs/decisions/0014-issuer-linger.md), so the second
 * HTTP hop costs once per batch, not per request.
 */
export const issueBatchRequest = z.object({
  requests: z.array(issueRequest).min(1).max(ISSUE_BATCH_MAX),
});

/**
 * One result per request, in order: the gate's outcome, or why it could not be decided (503-class).
 * `scope: 'coupon'` says only this coupon is unavailable (its gate is being rebuilt) while the issuer
 * itself is healthy: the gateway's breaker does not count it, so other coupons keep selling.
 */
const issueBatchItem = z.union([
  issueResponse,
  z.object({
    error: z.object({
      code: z.literal('UNAVAILABLE'),
      message: z.string(),
      scope: z.literal('coupon').optional(),
    }),
  }),
]);
export type IssueBatchItem = z.infer<typeof issueBatchItem>;
export const issueBatchResponse = z.object({ results: z.array(issueBatchItem) });
export type IssueBatchResponse = z.infer<typeof issueBatchResponse>;

/** Public answer of POST /coupons/{userId}/issue-async on 202. */
export const issueAccepted = z.object({
  status: z.literal('PENDING'),
  /** The event's id: the row in MySQL carries it. */
  issueId: z.string(),
  couponId: id,
  userId: id,
  requestId: z.string(),
});
export type IssueAccepted = z.infer<typeof issueAccepted>;

/**
 * GET /coupons/{userId}/issues/{couponId}: ISSUED (the row exists), PENDING (admitted, row not yet
 * written), REFUSED (admitted, but MySQL's quantity guard refused the row: the coupon was already
 * full; final), NONE.
 */
export const ISSUE_STATES = ['ISSUED', 'PENDING', 'REFUSED', 'NONE'] as const;
export type IssueState = (typeof ISSUE_STATES)[number];
export const issueStatus = z.object({ couponId: id, userId: id, state: z.enum(ISSUE_STATES) });
export type IssueStatus = z.infer<typeof issueStatus>;

/** Admin: POST /admin/coupons */
export const createCoupon = z
  .object({
    name: z.string().min(1).max(100).default('coupon'),
    quantity: z.number().int().positive().max(10_000_000),
    opensAt: z.iso.datetime({ offset: true }).optional(),
    closesAt: z.iso.datetime({ offset: true }).optional(),
  })
  .strict()
  .refine((c) => !c.opensAt || !c.closesAt || Date.parse(c.opensAt) < Date.parse(c.closesAt), {
    message: 'opensAt must be before closesAt',
  });
export type CreateCoupon = z.infer<typeof createCoupon>;

export const couponView = z.object({
  id,
  name: z.string(),
  quantity: z.number().int().positive(),
  opensAt: z.iso.datetime({ offset: true }),
  closesAt: z.iso.datetime({ offset: true }),
  /** An operator's kill switch (POST /admin/coupons/{couponId}/pause): nobody is admitted while set. */
  paused: z.boolean(),
});
export type CouponView = z.infer<typeof couponView>;

export const couponStats = z.object({
  couponId: id,
  quantity: z.number().int().positive(),
  admitted: z.number().int().nonnegative().describe('Users the Redis gate admitted.'),
  remaining: z.number().int().nonnegative().describe('Stock left in the gate.'),
  persisted: z.number().int().nonnegative().describe('Rows in MySQL.'),
  dlt: z.number().int().nonnegative().describe('Events of this coupon in the DLT.'),
  refused: z
    .number()
    .int()
    .nonnegative()
    .describe("Admitted users whose row MySQL's quantity guard refused (the gate over-admitted)."),
});
export type CouponStats = z.infer<typeof couponStats>;

/** Internal header carrying the shared token between gateway and issuer. */
export const INTERNAL_TOKEN_HEADER = 'x-internal-token';
export const REQUEST_ID_HEADER = 'x-request-id';
/**
 * On every answer of POST /coupons/{userId}/issue-async: `ISSUED` (202) or the error code
 * (`SOLD_OUT`, `ALREADY_ISSUED`, `RATE_LIMITED`, ...), so a client can branch without parsing the body.
 */
export const OUTCOME_HEADER = 'x-outcome';
