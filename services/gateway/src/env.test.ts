import { describe, expect, it } from 'vitest';
import { loadEnv } from './env.js';

const secrets = { ADMIN_TOKEN: 'a-secret-of-mine', INTERNAL_TOKEN: 'another-secret' };

describe('gateway env', () => {
  it('happy: with no configuration it listens on loopback, /metrics on its own loopback port', () => {
    const env = loadEnv({});
    expect(env.HOST).toBe('127.0.0.1');
    expect(env.METRICS_PORT).toBe(9464);
    expect(env.METRICS_HOST).toBe('127.0.0.1');
    expect(env.ADMIN_TOKEN).toBe('dev-admin-token');
  });

  it('happy: HOST=0.0.0.0 with tokens of your own', () => {
    expect(loadEnv({ HOST: '0.0.0.0', ...secrets }).HOST).toBe('0.0.0.0');
  });

  it('security: HOST=0.0.0.0 with the development admin token refuses to start, naming ADMIN_TOKEN', () => {
    expect(() => loadEnv({ HOST: '0.0.0.0', INTERNAL_TOKEN: secrets.INTERNAL_TOKEN })).toThrow(
      /^invalid environment:\n {2}ADMIN_TOKEN: is the development token 'dev-admin-token'/,
    );
  });

  it('security: HOST=0.0.0.0 with the development internal token refuses to start, naming INTERNAL_TOKEN', () => {
    expect(() => loadEnv({ HOST: '0.0.0.0', ADMIN_TOKEN: secrets.ADMIN_TOKEN })).toThrow(
      /^invalid environment:\n {2}INTERNAL_TOKEN: is the development token 'dev-internal-token'/,
    );
  });

  it('security: an empty token (compose passing an unset variable) is refused, not defaulted', () => {
    expect(() => loadEnv({ ADMIN_TOKEN: '' })).toThrow(
      /ADMIN_TOKEN: must be a secret of 8 characters or more/,
    );
  });
});
