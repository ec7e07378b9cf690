import { createServer, type Server } from 'node:http';
import type { RunningGateway } from '@coupon/gateway';
import { base64url, type CryptoKey, exportJWK, exportSPKI, generateKeyPair, type JWK, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listen } from '../support/index.js';
import { type Answer, extraGateway, issue, type System, startSystem, userIds } from './harness.js';

const SECRET = 'integration-test-secret-of-32-characters';
const AUDIENCE = 'coupon-api';
const ISSUER = 'https://idp.test';
const secret = new TextEncoder().encode(SECRET);
const now = () => Math.floor(Date.now() / 1000);

/** An HS256 token of the configured issuer and audience for `sub`; `claims` and `exp` override. */
function hs256(sub: number | string, claims: Record<string, unknown> = {}, key = secret): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(String(sub))
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(typeof claims.exp === 'number' ? claims.exp : now() + 300)
    .sign(key);
}

const json = (o: unknown) => base64url.encode(JSON.stringify(o));

let sys: System;
let hs: RunningGateway;
let rs: { gateway: RunningGateway; pem: string; privateKey: CryptoKey };
let jwks: {
  gateway: RunningGateway;
  server: Server;
  privateKey: CryptoKey;
  otherKey: CryptoKey;
  fetches: number;
};
let couponId: number;

/** A gateway in front of the suite's issuer with AUTH_MODE=jwt and `extra`. */
const gateway = (extra: Record<string, string>) => extraGateway(sys, { AUTH_MODE: 'jwt', ...extra });

beforeAll(async () => {
  sys = await startSystem({ persister: false });
  couponId = (await sys.admin.createCoupon(1_000)).id;
  hs = await gateway({ AUTH_JWT_SECRET: SECRET, AUTH_ISSUER: ISSUER, AUTH_AUDIENCE: AUDIENCE });

  const rsa = await generateKeyPair('RS256', { extractable: true });
  const pem = await exportSPKI(rsa.publicKey);
  rs = {
    gateway: await gateway({ AUTH_JWT_PUBLIC_KEY: pem.replaceAll('\n', '\\n') }),
    pem,
    privateKey: rsa.privateKey,
  };

  // The identity provider's JWKS on a loopback port of its own, with one ES256 key (kid k1).
  const es = await generateKeyPair('ES256', { extractable: true });
  const other = await generateKeyPair('ES256');
  const jwk: JWK = { ...(await exportJWK(es.publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
  const state = { fetches: 0 };
  const server = createServer((_req, res) => {
    state.fetches++;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ keys: [jwk] }));
  });
  const url = `http://127.0.0.1:${await listen(server)}/jwks.json`;
  jwks = {
    // Cooldown 0: an unknown kid fetches again at once; max age 0: every new token asks the JWKS
    // first, so "the JWKS is down" is met on the very next token.
    gateway: await gateway({ AUTH_JWKS_URL: url, AUTH_JWKS_COOLDOWN_S: '0', AUTH_JWKS_MAX_AGE_S: '0' }),
    server,
    privateKey: es.privateKey,
    otherKey: other.privateKey,
    get fetches() {
      return state.fetches;
    },
  };
}, 120_000);

afterAll(async () => {
  await hs?.stop();
  await rs?.gateway.stop();
  await jwks?.gateway.stop();
  jwks?.server.close();
  await sys?.stop();
});

/** A 401 as RFC 6750 says: the one error body, code UNAUTHENTICATED, and a Bearer challenge. */
function expect401(a: Answer, challenge: RegExp = /^Bearer realm="coupon", error="invalid_token"/): void {
  expect(a.status).toBe(401);
  expect(a.body.error?.code).toBe('UNAUTHENTICATED');
  expect(a.headers.get('www-authenticate')).toMatch(challenge);
  expect(a.body.error?.requestId).toBeTruthy();
}

describe('AUTH_MODE=jwt, HS256 with issuer and audience', () => {
  it('happy: a token whose sub is the path user is admitted, and a second request with it is answered too (cached)', async () => {
    const [u, v] = userIds(2) as [number, number];
    const token = await hs256(u);
    expect((await issue(hs.url, u, couponId, { token })).status).toBe(202);
    const again = await issue(hs.url, u, couponId, { token });
    expect(again.body.error?.code).toBe('ALREADY_ISSUED');
    // The status route takes the same token, and only for its own user.
    const state = await fetch(`${hs.url}/coupons/${u}/issues/${couponId}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(state.status).toBe(200);
    const other = await fetch(`${hs.url}/coupons/${v}/issues/${couponId}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(other.status).toBe(403);
    expect(((await other.json()) as Answer['body']).error?.code).toBe('FORBIDDEN');
  });

  it('security: no token: 401 with the bare Bearer challenge, on the issue and the status route', async () => {
    const [u] = userIds(1) as [number];
    expect401(await issue(hs.url, u, couponId), /^Bearer realm="coupon"$/);
    const state = await fetch(`${hs.url}/coupons/${u}/issues/${couponId}`);
    expect(state.status).toBe(401);
    expect(state.headers.get('www-authenticate')).toBe('Bearer realm="coupon"');
    expect401(
      await issue(hs.url, u, couponId, { headers: { authorization: 'Basic dTpw' } }),
      /invalid_request/,
    );
  });

  it('security: a forged signature (another secret) is 401', async () => {
    const [u] = userIds(1) as [number];
    const forged = await hs256(u, {}, new TextEncoder().encode('not-the-secret-of-this-gateway-at-all'));
    expect401(await issue(hs.url, u, couponId, { token: forged }));
    // A valid token's payload swapped for another user's, signature kept.
    const [h, , sig] = (await hs256(u)).split('.');
    const [, p] = (await hs256(u + 1)).split('.');
    expect401(await issue(hs.url, u + 1, couponId, { token: `${h}.${p}.${sig}` }));
  });

  it("security: a valid token of another user is 403 FORBIDDEN, and never admits the path's user", async () => {
    const [u, victim] = userIds(2) as [number, number];
    const a = await issue(hs.url, victim, couponId, { token: await hs256(u) });
    expect(a.status).toBe(403);
    expect(a.body.error?.code).toBe('FORBIDDEN');
    const state = await fetch(`${sys.url}/coupons/${victim}/issues/${couponId}`);
    expect(((await state.json()) as { state: string }).state).toBe('NONE');
  });

  it('security: expired beyond the clock skew is 401; within AUTH_CLOCK_SKEW_S (30 s) it is accepted', async () => {
    const [u, w] = userIds(2) as [number, number];
    const expired = await hs256(u, { exp: now() - 60 });
    const a = await issue(hs.url, u, couponId, { token: expired });
    expect401(a);
    expect(a.body.error?.message).toBe('the token has expired');
    expect((await issue(hs.url, w, couponId, { token: await hs256(w, { exp: now() - 5 }) })).status).toBe(
      202,
    );
  });

  it('security: alg none (unsigned) is 401', async () => {
    const [u] = userIds(1) as [number];
    const claims = { sub: String(u), iss: ISSUER, aud: AUDIENCE, exp: now() + 300 };
    expect401(
      await issue(hs.url, u, couponId, { token: `${json({ alg: 'none', typ: 'JWT' })}.${json(claims)}.` }),
    );
    const signed = (await hs256(u)).split('.');
    expect401(
      await issue(hs.url, u, couponId, { token: `${json({ alg: 'none' })}.${signed[1]}.${signed[2]}` }),
    );
  });

  it('security: another audience, another issuer, no exp, or garbage: 401', async () => {
    const [u] = userIds(1) as [number];
    const other = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(String(u))
      .setIssuer(ISSUER)
      .setAudience('another-api')
      .setExpirationTime('5m')
      .sign(secret);
    const a = await issue(hs.url, u, couponId, { token: other });
    expect401(a);
    expect(a.body.error?.message).toBe('the token claim aud is not accepted');
    const foreign = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(String(u))
      .setIssuer('https://evil.test')
      .setAudience(AUDIENCE)
      .setExpirationTime('5m')
      .sign(secret);
    expect401(await issue(hs.url, u, couponId, { token: foreign }));
    const forever = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(String(u))
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .sign(secret);
    expect401(await issue(hs.url, u, couponId, { token: forever }));
    expect401(await issue(hs.url, u, couponId, { token: 'not.a.jwt' }));
  });

  it('security: an oversized token is 401 before any parsing, even when validly signed', async () => {
    const [u] = userIds(1) as [number];
    const big = await hs256(u, { pad: 'x'.repeat(5_000) });
    const a = await issue(hs.url, u, couponId, { token: big });
    expect401(a);
    expect(a.body.error?.message).toBe('the token is too long');
  });
});

describe('AUTH_MODE=jwt, RS256 public key', () => {
  it('happy: an RS256 token is admitted', async () => {
    const [u] = userIds(1) as [number];
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: 'RS256' })
      .setSubject(String(u))
      .setExpirationTime('5m')
      .sign(rs.privateKey);
    expect((await issue(rs.gateway.url, u, couponId, { token })).status).toBe(202);
  });

  it('security: algorithm confusion: HS256 signed with the public key (PEM) as the HMAC secret is 401', async () => {
    const [u] = userIds(1) as [number];
    for (const key of [rs.pem, rs.pem.trim()]) {
      const token = await new SignJWT({})
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(String(u))
        .setExpirationTime('5m')
        .sign(new TextEncoder().encode(key));
      const a = await issue(rs.gateway.url, u, couponId, { token });
      expect401(a);
      expect(a.body.error?.message).toBe('the token algorithm is not accepted');
    }
  });
});

describe('AUTH_MODE=jwt, a JWKS URL', () => {
  const es256 = (sub: number, key: CryptoKey, kid: string) =>
    new SignJWT({})
      .setProtectedHeader({ alg: 'ES256', kid })
      .setSubject(String(sub))
      .setExpirationTime('5m')
      .sign(key);

  it('security: a JWKS that is down: known keys keep working, an unknown kid is 401, never 500', async () => {
    const [a, b, c, d] = userIds(4) as [number, number, number, number];
    expect(
      (await issue(jwks.gateway.url, a, couponId, { token: await es256(a, jwks.privateKey, 'k1') })).status,
    ).toBe(202);
    expect(jwks.fetches).toBeGreaterThan(0);
    // Up: an unknown kid makes the gateway ask the JWKS again, and finds no such key.
    const before = jwks.fetches;
    expect401(await issue(jwks.gateway.url, b, couponId, { token: await es256(b, jwks.otherKey, 'k2') }));
    expect(jwks.fetches).toBeGreaterThan(before);

    // Down: the listener closed, connections refused.
    await new Promise((ok) => {
      jwks.server.close(ok);
      jwks.server.closeAllConnections();
    });
    expect(
      (await issue(jwks.gateway.url, c, couponId, { token: await es256(c, jwks.privateKey, 'k1') })).status,
    ).toBe(202);
    const unknown = await issue(jwks.gateway.url, d, couponId, {
      token: await es256(d, jwks.otherKey, 'k2'),
    });
    expect401(unknown);
    // A key of the JWKS that signs with a kid it does not have: no key either.
    expect401(await issue(jwks.gateway.url, d, couponId, { token: await es256(d, jwks.privateKey, 'k9') }));
  });
});
