import { z } from 'zod';

/**
 * Ids travel in URLs as strings. Accept only plain ASCII decimal digits, no sign, no leading zero,
 * no exponent, no unicode digits, and at most Number.MAX_SAFE_INTEGER so that they stay exact as
 * numbers and fit MySQL's BIGINT.
 */
const DIGITS = /^[1-9][0-9]{0,15}$/;

/** @public Path ids as a zod schema, for the routes declared with their schemas (OpenAPI). */
export const idParam = z
  .string()
  .regex(DIGITS, 'must be a positive integer')
  .transform(Number)
  .refine(Number.isSafeInteger, 'is too large');

// zod's own .meta(), not .openapi(): these are built before @hono/zod-openapi extends zod, and
// zod-to-openapi reads .meta() all the same.
/** The ids in paths and queries, with an example for the reference page. */
export const couponIdParam = idParam.meta({ description: "The coupon's id.", example: '1' });
export const userIdParam = idParam.meta({ description: "The user's id.", example: '42' });

export const id = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);

export function parseId(raw: string | undefined): number | undefined {
  if (raw === undefined || !DIGITS.test(raw)) return undefined;
  const n = Number(raw);
  return Number.isSafeInteger(n) ? n : undefined;
}
