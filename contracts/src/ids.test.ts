import { describe, expect, it } from 'vitest';
import { parseId } from './ids.js';

describe('parseId', () => {
  it('happy: plain positive integers up to MAX_SAFE_INTEGER', () => {
    expect(parseId('1')).toBe(1);
    expect(parseId('9007199254740991')).toBe(Number.MAX_SAFE_INTEGER);
  });

  it('security: rejects signs, floats, exponents, leading zeros, overflow, unicode digits, whitespace', () => {
    for (const bad of [
      '',
      '0',
      '-1',
      '+1',
      '1.0',
      '1e3',
      '01',
      '0x10',
      '9007199254740992',
      '99999999999999999',
      '１',
      '٣',
      ' 1',
      '1 ',
      '1\n',
      undefined,
    ]) {
      expect(parseId(bad), JSON.stringify(bad)).toBeUndefined();
    }
  });
});
