import { createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  type CryptoKey,
  createLocalJWKSet,
  createRemoteJWKSet,
  importSPKI,
  type JSONWebKeySet,
  type JWTVerifyGetKey,
} from 'jose';

/** What a token is checked with, and the only algorithms accepted with it (never `none`, never HS for a public key). */
export interface VerificationKey {
  key: CryptoKey | JWTVerifyGetKey;
  algorithms: string[];
  /** For the log line at start-up. */
  describe: string;
}

export interface KeySources {
  secret?: string;
  publicKey?: string;
  jwksFile?: string;
  jwksUrl?: string;
  jwksCooldownSec: number;
  jwksMaxAgeSec: number;
  jwksTimeoutMs: number;
}

/** Algorithms a key set (JWKS) may use: asymmetric ones only, so no key in it can act as an HMAC secret. */
const JWKS_ALGORITHMS = ['RS256', 'ES256', 'EdDSA'];

/** The one key source env.ts allows (checkAuth), ready to verify with. */
export async function loadVerificationKey(src: KeySources): Promise<VerificationKey> {
  if (src.secret) {
    const key = await crypto.subtle.importKey(
      'raw',
      new TextEncoder().encode(src.secret),
      { name: 'HMAC', hash: 'SHA-256' },
      false,
      ['verify'],
    );
    return { key, algorithms: ['HS256'], describe: 'HS256 secret (AUTH_JWT_SECRET)' };
  }
  if (src.publicKey) {
    const pem = pemOf(src.publicKey);
    const alg = algorithmOf(pem);
    return { key: await importSPKI(pem, alg), algorithms: [alg], describe: `${alg} public key` };
  }
  if (src.jwksFile) {
    const jwks = JSON.parse(readFileSync(src.jwksFile, 'utf8')) as JSONWebKeySet;
    if (!Array.isArray(jwks.keys)) throw new Error(`AUTH_JWKS_FILE ${src.jwksFile}: no "keys" array`);
    return {
      key: createLocalJWKSet(jwks),
      algorithms: JWKS_ALGORITHMS,
      describe: `JWKS file ${src.jwksFile}`,
    };
  }
  if (src.jwksUrl)
    return { key: remoteKeys(src), algorithms: JWKS_ALGORITHMS, describe: `JWKS ${src.jwksUrl}` };
  throw new Error('AUTH_MODE=jwt without a key');
}

/**
 * jose's remote JWKS (cached; fetched again on an unknown `kid`, at most once per cooldown), and
 * when a fetch fails the keys it last had: an identity provider that is down does not log out
 * every user whose key is known. An unknown `kid` then fails to verify (401), as it would anyway.
 */
function remoteKeys(src: KeySources): JWTVerifyGetKey {
  const remote = createRemoteJWKSet(new URL(src.jwksUrl as string), {
    cooldownDuration: src.jwksCooldownSec * 1_000,
    timeoutDuration: src.jwksTimeoutMs,
    cacheMaxAge: src.jwksMaxAgeSec * 1_000,
  });
  let last: { jwks: JSONWebKeySet; local: JWTVerifyGetKey } | undefined;
  return async (header, token) => {
    try {
      return await remote(header, token);
    } catch (err) {
      const jwks = remote.jwks();
      if (!jwks || (err as { code?: string }).code === 'ERR_JWKS_NO_MATCHING_KEY') throw err;
      if (last?.jwks !== jwks) last = { jwks, local: createLocalJWKSet(jwks) };
      return last.local(header, token);
    }
  };
}

/** AUTH_JWT_PUBLIC_KEY is the PEM itself (`\n` allowed for newlines) or a file holding it. */
function pemOf(value: string): string {
  const v = value.includes('-----BEGIN') ? value : readFileSync(value, 'utf8');
  return v.replace(/\\n/g, '\n');
}

/** The key's type pins the algorithm: RSA → RS256, EC P-256 → ES256, Ed25519 → EdDSA. */
function algorithmOf(pem: string): string {
  const k = createPublicKey(pem);
  if (k.asymmetricKeyType === 'rsa') return 'RS256';
  if (k.asymmetricKeyType === 'ec' && k.asymmetricKeyDetails?.namedCurve === 'prime256v1') return 'ES256';
  if (k.asymmetricKeyType === 'ed25519') return 'EdDSA';
  throw new Error(
    `AUTH_JWT_PUBLIC_KEY: a ${k.asymmetricKeyType} key${k.asymmetricKeyDetails?.namedCurve ? ` on ${k.asymmetricKeyDetails.namedCurve}` : ''}; expected RSA, EC P-256 or Ed25519`,
  );
}
