import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { DEV_TOKENS, devTokensOnlyOnLoopback, isLoopback } from './bind.js';
import { parseEnv } from './env.js';

describe('isLoopback', () => {
  it('happy: 127.0.0.0/8, ::1 and localhost stay on this machine', () => {
    for (const h of [
      '127.0.0.1',
      '127.1.2.3',
      '::1',
      '[::1]',
      '0:0:0:0:0:0:0:1',
      '::ffff:127.0.0.1',
      'localhost',
      'LOCALHOST',
    ])
      expect(isLoopback(h), h).toBe(true);
  });

  it('security: wildcards, other addresses and host names count as beyond loopback', () => {
    for (const h of [
      '0.0.0.0',
      '::',
      '',
      '10.0.0.5',
      '192.168.1.2',
      '128.0.0.1',
      '::2',
      'example.com',
      'localhost.example.com',
    ])
      expect(isLoopback(h), h).toBe(false);
  });
});

describe('devTokensOnlyOnLoopback', () => {
  const schema = z
    .object({
      HOST: z.string().default('127.0.0.1'),
      ADMIN_TOKEN: z.string().default(DEV_TOKENS.ADMIN_TOKEN),
      INTERNAL_TOKEN: z.string().default(DEV_TOKENS.INTERNAL_TOKEN),
    })
    .superRefine(devTokensOnlyOnLoopback(['ADMIN_TOKEN', 'INTERNAL_TOKEN']));

  it('happy: the development tokens start on loopback, and secrets of your own anywhere', () => {
    expect(parseEnv(schema, {}).ADMIN_TOKEN).toBe('dev-admin-token');
    expect(parseEnv(schema, { HOST: '::1' }).INTERNAL_TOKEN).toBe('dev-internal-token');
    const own = { HOST: '0.0.0.0', ADMIN_TOKEN: 'a-secret-of-mine', INTERNAL_TOKEN: 'another-secret' };
    expect(parseEnv(schema, own).HOST).toBe('0.0.0.0');
  });

  it('security: beyond loopback each development token is refused, naming its variable', () => {
    expect(() => parseEnv(schema, { HOST: '0.0.0.0', INTERNAL_TOKEN: 'another-secret' })).toThrow(
      /invalid environment:\n {2}ADMIN_TOKEN: is the development token 'dev-admin-token'.*HOST=0\.0\.0\.0/,
    );
    expect(() => parseEnv(schema, { HOST: '10.1.2.3', ADMIN_TOKEN: 'a-secret-of-mine' })).toThrow(
      /^invalid environment:\n {2}INTERNAL_TOKEN: is the development token/,
    );
    const both = () => parseEnv(schema, { HOST: '::' });
    expect(both).toThrow(/ADMIN_TOKEN: .*\n {2}INTERNAL_TOKEN: /);
  });

  it('security: the development value set explicitly is refused as well as the default', () => {
    const env = { HOST: '0.0.0.0', ADMIN_TOKEN: 'dev-admin-token', INTERNAL_TOKEN: 'another-secret' };
    expect(() => parseEnv(schema, env)).toThrow(/ADMIN_TOKEN: is the development token/);
  });
});
