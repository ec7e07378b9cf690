import { z } from 'zod';

// Error codes are part of the public API: clients branch on them. Renaming one is a breaking change.
export const ERROR_CODES = {
  INVALID_REQUEST: 400,
  /** Admin and internal routes: no token (a wrong one is FORBIDDEN). */
  UNAUTHORIZED: 401,
  /** Issue and status routes (AUTH_MODE=jwt): no bearer JWT, or one that is malformed, badly signed, expired or oversized. */
  UNAUTHENTICATED: 401,
  /** A wrong admin or internal token; on the issue and status routes, a valid JWT whose `sub` is another user. */
  FORBIDDEN: 403,
  COUPON_NOT_FOUND: 404,
  NOT_FOUND: 404,
  ALREADY_ISSUED: 409,
  SOLD_OUT: 409,
  COUPON_NOT_OPEN: 409,
  COUPON_PAUSED: 409,
  PAYLOAD_TOO_LARGE: 413,
  RATE_LIMITED: 429,
  INTERNAL: 500,
  UNAVAILABLE: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

const CODES = Object.keys(ERROR_CODES) as [ErrorCode, ...ErrorCode[]];

/** The one error body every service answers with. */
export const errorBodySchema = z.object({
  error: z.object({ code: z.enum(CODES), message: z.string(), requestId: z.string() }),
});
export type ErrorBody = z.infer<typeof errorBodySchema>;

export function errorBody(code: ErrorCode, message: string, requestId: string): ErrorBody {
  return { error: { code, message, requestId } };
}

/** A failure in our own code or a dependency. `retryable` tells the persister: back off, or DLT. */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  constructor(code: ErrorCode, message: string, opts: { retryable?: boolean; cause?: unknown } = {}) {
    super(message, { cause: opts.cause });
    this.name = 'AppError';
    this.code = code;
    this.retryable = opts.retryable ?? false;
  }
  get status(): number {
    return ERROR_CODES[this.code];
  }
}
