import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { parseEnv, redisEnv } from './env.js';
import { isNotPrimaryError, parseSentinels, redisTarget } from './redis.js';

const schema = z.object(redisEnv);

describe('Redis through Sentinel: configuration', () => {
  it('happy: REDIS_SENTINELS is a host:port list; empty (the default) means REDIS_URL is the Redis', () => {
    const env = parseEnv(schema, {
      REDIS_URL: 'redis://127.0.0.1:6380/7',
      REDIS_SENTINELS: '127.0.0.1:26381, 10.0.0.2:26382,[::1]:26383',
    });
    expect(redisTarget(env)).toEqual({
      url: 'redis://127.0.0.1:6380/7',
      sentinels: [
        { host: '127.0.0.1', port: 26381 },
        { host: '10.0.0.2', port: 26382 },
        { host: '::1', port: 26383 },
      ],
      sentinelMaster: 'coupon',
    });
    expect(parseEnv(schema, {}).REDIS_SENTINELS).toEqual([]);
  });

  it('error: a malformed Sentinel address stops start-up with a message naming the variable', () => {
    expect(() => parseEnv(schema, { REDIS_SENTINELS: '127.0.0.1:26381,sentinel-2' })).toThrow(
      /REDIS_SENTINELS: "sentinel-2" is not host:port/,
    );
    expect(() => parseSentinels('h:0')).toThrow(/not host:port/);
    expect(() => parseEnv(schema, { REDIS_SENTINEL_MASTER: '' })).toThrow(/REDIS_SENTINEL_MASTER/);
  });

  it('happy: READONLY / NOREPLICAS mean "not a usable primary" (reconnect via Sentinel), others do not', () => {
    expect(isNotPrimaryError(new Error("READONLY You can't write against a read only replica."))).toBe(true);
    expect(isNotPrimaryError(new Error('NOREPLICAS Not enough good replicas to write.'))).toBe(true);
    expect(isNotPrimaryError(new Error('ERR unknown command'))).toBe(false);
    expect(isNotPrimaryError(new Error('NOSCRIPT No matching script'))).toBe(false);
  });
});
