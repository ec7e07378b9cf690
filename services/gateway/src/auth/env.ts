import { isLoopback } from '@coupon/kit';
import { z } from 'zod';

/** Who the issue and status routes believe (docs/auth.md). */
const AUTH_MODES = ['none', 'jwt', 'trusted-upstream'] as const;

const optional = z
  .string()
  .default('')
  .transform((s) => s.trim() || undefined);

/** The identity variables of the gateway's env.ts. */
export const authEnv = {
  /**
   * `none`: any caller may act for any userId (the quick start; allowed only while HOST is loopback).
   * `jwt`: a bearer JWT whose `sub` is the path's userId, verified with one of the AUTH_JWT_* keys.
   * `trusted-upstream`: an upstream in front of the gateway (an API gateway, a BFF) has
   * authenticated the user and only forwards a user's own requests; the gateway checks nothing.
   */
  AUTH_MODE: z.enum(AUTH_MODES).default('none'),
  /** AUTH_MODE=jwt, HS256: the shared secret (32 bytes or more). Only HS256 tokens are accepted then. */
  AUTH_JWT_SECRET: optional.pipe(z.string().min(32, 'must be 32 characters or more').optional()),
  /**
   * AUTH_MODE=jwt: a public key (PEM, SPKI); its type pins the algorithm: RSA → RS256, EC P-256 →
   * ES256, Ed25519 → EdDSA. A file path or the PEM itself (`\n` for newlines).
   */
  AUTH_JWT_PUBLIC_KEY: optional,
  /** AUTH_MODE=jwt: a JWKS (JSON) file; keys chosen by `kid`, RS256/ES256/EdDSA only. */
  AUTH_JWKS_FILE: optional,
  /**
   * AUTH_MODE=jwt: the identity provider's JWKS URL (e.g. `https://idp.example/.well-known/jwks.json`).
   * Fetched on the first token, cached, fetched again on an unknown `kid` (at most every
   * AUTH_JWKS_COOLDOWN_S); while it is unreachable the cached keys keep working.
   */
  AUTH_JWKS_URL: optional.pipe(z.url().optional()),
  /** Shortest time between two JWKS fetches (an unknown `kid` cannot make the gateway fetch more often). */
  AUTH_JWKS_COOLDOWN_S: z.coerce.number().min(0).max(3_600).default(30),
  /**
   * A fetched JWKS is used this long, then fetched again on the next token (rotation: a key removed
   * from it stops working). A fetch that fails keeps the keys it had: a provider that is down logs
   * nobody out.
   */
  AUTH_JWKS_MAX_AGE_S: z.coerce.number().int().min(0).max(86_400).default(600),
  /** A JWKS fetch that has not answered in this long fails (the token answers 401). */
  AUTH_JWKS_TIMEOUT_MS: z.coerce.number().int().min(100).max(30_000).default(2_000),
  /** When set, the token's `iss` must equal it. */
  AUTH_ISSUER: optional,
  /** When set, the token's `aud` must contain it. */
  AUTH_AUDIENCE: optional,
  /** Clock skew tolerated on `exp` and `nbf`, in seconds. */
  AUTH_CLOCK_SKEW_S: z.coerce.number().int().min(0).max(300).default(30),
  /** A longer Authorization header is refused (401) before it is parsed. */
  AUTH_MAX_TOKEN_BYTES: z.coerce.number().int().min(256).max(8_192).default(4_096),
  /** Verified tokens kept (least recently used out), each until its `exp`: a token seen again costs no signature check. */
  AUTH_CACHE_SIZE: z.coerce.number().int().min(0).max(10_000_000).default(100_000),
};

const authVars = z.object(authEnv);
type AuthVars = { HOST: string } & z.infer<typeof authVars>;

const KEY_SOURCES = ['AUTH_JWT_SECRET', 'AUTH_JWT_PUBLIC_KEY', 'AUTH_JWKS_FILE', 'AUTH_JWKS_URL'] as const;

/** Why AUTH_MODE=none is refused on `host`: the same shape as the development tokens' message. */
export function noAuthMessage(host: string): string {
  return (
    `is 'none' (any caller may claim coupons for any userId) while HOST=${host} listens beyond ` +
    'loopback: set AUTH_MODE=jwt with a key (AUTH_JWT_SECRET, AUTH_JWT_PUBLIC_KEY, AUTH_JWKS_FILE or ' +
    'AUTH_JWKS_URL), or AUTH_MODE=trusted-upstream when an upstream authenticates the user, or listen on 127.0.0.1'
  );
}

/** Refinement of the gateway's env: AUTH_MODE=none only on loopback; jwt needs exactly one key source. */
export function checkAuth(env: AuthVars, ctx: z.RefinementCtx): void {
  if (env.AUTH_MODE === 'none' && !isLoopback(env.HOST))
    ctx.addIssue({ code: 'custom', path: ['AUTH_MODE'], message: noAuthMessage(env.HOST) });
  const given = KEY_SOURCES.filter((k) => env[k] !== undefined);
  if (env.AUTH_MODE === 'jwt' && given.length !== 1)
    ctx.addIssue({
      code: 'custom',
      path: ['AUTH_MODE'],
      message: `is 'jwt': set exactly one of ${KEY_SOURCES.join(', ')} (${given.length ? `got ${given.join(', ')}` : 'none is set'})`,
    });
}
