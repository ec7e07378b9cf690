import { jwtVerify } from 'jose';
import { LRUCache } from 'lru-cache';
import type { VerificationKey } from './keys.js';

/** Why a request is refused: 401 (with WWW-Authenticate) or 403. */
export interface Denial {
  code: 'UNAUTHENTICATED' | 'FORBIDDEN';
  message: string;
  headers?: Record<string, string>;
}

export interface AuthenticatorConfig {
  key: VerificationKey;
  issuer?: string;
  audience?: string;
  clockSkewSec: number;
  maxTokenBytes: number;
  cacheSize: number;
}

/** Plain counters the metrics read on scrape. */
export interface AuthStats {
  /** Tokens whose signature and claims were checked (cache misses). */
  verified: number;
  /** Requests answered from the cache of verified tokens. */
  cacheHits: number;
  /** Tokens refused (401). */
  rejected: number;
}

/** A verified token stays cached at most this long, even when it expires later (a key rotated out stops working within it). */
const CACHE_MAX_TTL_MS = 5 * 60_000;

const REALM = 'Bearer realm="coupon"';

/** RFC 6750's challenge: no token says only the scheme; a bad one says `invalid_token` and why. */
function unauthenticated(message: string, error?: 'invalid_token' | 'invalid_request'): Denial {
  const challenge = error ? `${REALM}, error="${error}", error_description="${message}"` : REALM;
  return { code: 'UNAUTHENTICATED', message, headers: { 'www-authenticate': challenge } };
}

const MISSING = unauthenticated('a bearer token is required');
const NOT_BEARER = unauthenticated('the Authorization header must be `Bearer <token>`', 'invalid_request');
const TOO_LONG = unauthenticated('the token is too long', 'invalid_token');
const WRONG_USER: Denial = { code: 'FORBIDDEN', message: "the token's subject is another user" };

/** jose's error codes → a fixed message: nothing the caller sent is echoed. */
const REASONS: Record<string, string> = {
  ERR_JWT_EXPIRED: 'the token has expired',
  ERR_JWS_SIGNATURE_VERIFICATION_FAILED: 'the token signature does not verify',
  ERR_JOSE_ALG_NOT_ALLOWED: 'the token algorithm is not accepted',
  ERR_JWKS_NO_MATCHING_KEY: 'no key for the token',
  ERR_JWKS_MULTIPLE_MATCHING_KEYS: 'no single key for the token',
  ERR_JWS_INVALID: 'the token is malformed',
  ERR_JWT_INVALID: 'the token is malformed',
};

function reasonOf(err: unknown): string {
  const e = err as { code?: string; claim?: string };
  if (e.code === 'ERR_JWT_CLAIM_VALIDATION_FAILED') return `the token claim ${e.claim ?? ''} is not accepted`;
  return (e.code && REASONS[e.code]) || 'the token could not be verified';
}

/**
 * The bearer JWT of the issue and status routes (AUTH_MODE=jwt): signed by the configured key with
 * one of its pinned algorithms, `exp` and `sub` present, `iss`/`aud` when configured, within
 * AUTH_CLOCK_SKEW_S; `sub` must be the path's user. A verified token is cached (keyed by the token
 * itself, until its `exp`), so a client asking again costs a map lookup, answered synchronously.
 * Every failure is a 401 or 403, never a 500: a JWKS that cannot be fetched fails the token.
 */
export class Authenticator {
  readonly stats: AuthStats = { verified: 0, cacheHits: 0, rejected: 0 };
  private readonly cache: LRUCache<string, string> | undefined;
  private readonly maxHeader: number;

  constructor(private readonly cfg: AuthenticatorConfig) {
    this.cache = cfg.cacheSize > 0 ? new LRUCache<string, string>({ max: cfg.cacheSize }) : undefined;
    this.maxHeader = cfg.maxTokenBytes + 'Bearer '.length;
  }

  /** undefined: `authorization` carries a valid token of `userId`. Synchronous when the token is cached. */
  check(authorization: string | undefined, userId: number): Denial | undefined | Promise<Denial | undefined> {
    if (!authorization) return this.refuse(MISSING);
    if (authorization.length > this.maxHeader) return this.refuse(TOO_LONG);
    if (!/^bearer /i.test(authorization)) return this.refuse(NOT_BEARER);
    const token = authorization.slice(7).trim();
    const cached = this.cache?.get(token);
    if (cached !== undefined) {
      this.stats.cacheHits++;
      return cached === String(userId) ? undefined : WRONG_USER;
    }
    return this.verify(token).then(
      (sub) => (sub === String(userId) ? undefined : WRONG_USER),
      (err: unknown) => this.refuse(unauthenticated(reasonOf(err), 'invalid_token')),
    );
  }

  /** The token's subject once verified; rejects with jose's error otherwise. */
  private async verify(token: string): Promise<string> {
    this.stats.verified++;
    const { key, algorithms } = this.cfg.key;
    const options = {
      algorithms,
      issuer: this.cfg.issuer,
      audience: this.cfg.audience,
      clockTolerance: this.cfg.clockSkewSec,
      requiredClaims: ['exp', 'sub'],
    };
    const { payload } =
      typeof key === 'function' ? await jwtVerify(token, key, options) : await jwtVerify(token, key, options);
    const sub = payload.sub as string;
    const ttl = Math.min(
      ((payload.exp as number) + this.cfg.clockSkewSec) * 1_000 - Date.now(),
      CACHE_MAX_TTL_MS,
    );
    if (this.cache && ttl > 0) this.cache.set(token, sub, { ttl });
    return sub;
  }

  private refuse(d: Denial): Denial {
    this.stats.rejected++;
    return d;
  }
}
