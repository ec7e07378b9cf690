import { describe, expect, it } from 'vitest';
import { loadEnv } from './env.js';

const secrets = { ADMIN_TOKEN: 'a-secret-of-mine', INTERNAL_TOKEN: 'another-secret' };
const jwt = { AUTH_MODE: 'jwt', AUTH_JWT_SECRET: 'a-hs256-secret-of-32-characters!!' };

describe('gateway env', () => {
  it('happy: with no configuration it listens on loopback, /metrics on its own loopback port', () => {
    const env = loadEnv({});
    expect(env.HOST).toBe('127.0.0.1');
    expect(env.METRICS_PORT).toBe(9464);
    expect(env.METRICS_HOST).toBe('127.0.0.1');
    expect(env.ADMIN_TOKEN).toBe('dev-admin-token');
  });

  it('happy: HOST=0.0.0.0 with tokens of your own and an identity check', () => {
    expect(loadEnv({ HOST: '0.0.0.0', ...secrets, ...jwt }).HOST).toBe('0.0.0.0');
    expect(loadEnv({ HOST: '0.0.0.0', ...secrets, AUTH_MODE: 'trusted-upstream' }).AUTH_MODE).toBe(
      'trusted-upstream',
    );
  });

  it('happy: the quick start needs no token: AUTH_MODE=none on loopback', () => {
    expect(loadEnv({}).AUTH_MODE).toBe('none');
    expect(loadEnv({ HOST: '::1' }).AUTH_MODE).toBe('none');
  });

  it('security: beyond loopback with no identity configured it refuses to start, naming AUTH_MODE', () => {
    expect(() => loadEnv({ HOST: '0.0.0.0', ...secrets })).toThrow(
      /^invalid environment:\n {2}AUTH_MODE: is 'none' \(any caller may claim coupons for any userId\) while HOST=0\.0\.0\.0 listens beyond loopback: set AUTH_MODE=jwt/,
    );
    expect(() => loadEnv({ HOST: '10.1.2.3', ...secrets, AUTH_MODE: 'none' })).toThrow(
      /AUTH_MODE: is 'none'/,
    );
  });

  it('error: AUTH_MODE=jwt needs exactly one key, and a secret of 32 characters or more', () => {
    expect(() => loadEnv({ AUTH_MODE: 'jwt' })).toThrow(
      /AUTH_MODE: is 'jwt': set exactly one of .*none is set/,
    );
    expect(() => loadEnv({ ...jwt, AUTH_JWKS_URL: 'https://idp.example/.well-known/jwks.json' })).toThrow(
      /got AUTH_JWT_SECRET, AUTH_JWKS_URL/,
    );
    expect(() => loadEnv({ AUTH_MODE: 'jwt', AUTH_JWT_SECRET: 'short' })).toThrow(
      /AUTH_JWT_SECRET: must be 32 characters or more/,
    );
  });

  it('error: TRUSTED_PROXIES names a bad entry', () => {
    expect(() => loadEnv({ TRUSTED_PROXIES: 'loopback, 10.0.0.0/33' })).toThrow(
      /TRUSTED_PROXIES: '10\.0\.0\.0\/33' is not an address/,
    );
    expect(loadEnv({ TRUSTED_PROXIES: 'loopback,10.0.0.0/8' }).TRUSTED_PROXIES).toBeTypeOf('function');
    expect(loadEnv({}).TRUSTED_PROXIES).toBeUndefined();
  });

  it('security: HOST=0.0.0.0 with the development admin token refuses to start, naming ADMIN_TOKEN', () => {
    expect(() => loadEnv({ HOST: '0.0.0.0', INTERNAL_TOKEN: secrets.INTERNAL_TOKEN, ...jwt })).toThrow(
      /^invalid environment:\n {2}ADMIN_TOKEN: is the development token 'dev-admin-token'/,
    );
  });

  it('security: HOST=0.0.0.0 with the development internal token refuses to start, naming INTERNAL_TOKEN', () => {
    expect(() => loadEnv({ HOST: '0.0.0.0', ADMIN_TOKEN: secrets.ADMIN_TOKEN, ...jwt })).toThrow(
      /^invalid environment:\n {2}INTERNAL_TOKEN: is the development token 'dev-internal-token'/,
    );
  });

  it('security: an empty token (compose passing an unset variable) is refused, not defaulted', () => {
    expect(() => loadEnv({ ADMIN_TOKEN: '' })).toThrow(
      /ADMIN_TOKEN: must be a secret of 8 characters or more/,
    );
  });
});
