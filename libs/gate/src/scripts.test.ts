import { ISSUE_OUTCOMES } from '@coupon/contracts';
import { describe, expect, it } from 'vitest';
import { type Script, script, scriptArgs } from './lua.js';
import * as scripts from './scripts.js';
import { ADMIT_CODES, ADMIT_MANY, ADMIT_OUTCOMES, REBUILD_CODES, REBUILD_OPEN } from './scripts.js';

// The names shared by the Lua and the TypeScript: what each script's prelude declares is what its
// declaration says, and no body reaches KEYS or ARGV by a fixed position. The scripts' behaviour is
// tested on real Redis (scripts.redis.test.ts).

const all = Object.entries(scripts as Record<string, unknown>).filter(
  (e): e is [string, Script<string, string>] => typeof e[1] === 'object' && e[1] !== null && 'lua' in e[1],
);

/** The Lua's leading `local a, b = x, y` lines as name → value text, and the body after them. */
function prelude(lua: string): { locals: Record<string, string>; body: string } {
  const locals: Record<string, string> = {};
  const lines = lua.split('\n');
  let n = 0;
  for (const line of lines) {
    const m = /^local ([\w, ]+) = (.+)$/.exec(line);
    if (!m?.[1] || !m[2] || m[1].includes('function')) break;
    const names = m[1].split(', ');
    const values = m[2].split(', ');
    if (names.length !== values.length) break;
    names.forEach((name, i) => {
      locals[name] = values[i] as string;
    });
    n++;
  }
  return { locals, body: lines.slice(n).join('\n') };
}

describe('the admit script and its decoder share one table', () => {
  it('happy: every code decodes to its own name, and each name is an issue outcome', () => {
    const codes = Object.values(ADMIT_CODES);
    expect(new Set(codes).size).toBe(codes.length);
    for (const [name, code] of Object.entries(ADMIT_CODES)) {
      expect(ADMIT_OUTCOMES.get(code)).toBe(name);
      expect(ISSUE_OUTCOMES).toContain(name);
    }
    expect(ADMIT_OUTCOMES.get(codes.length)).toBeUndefined();
  });

  it('happy: the Lua declares each outcome with the value the decoder reads', () => {
    const { locals, body } = prelude(ADMIT_MANY.lua);
    for (const [name, code] of Object.entries(ADMIT_CODES)) expect(locals[name]).toBe(String(code));
    expect(locals).toMatchObject({ meta: 'KEYS[1]', stock: 'KEYS[2]', users: 'KEYS[3]', REST: '1' });
    for (const name of Object.keys(ADMIT_CODES)) expect(body).toMatch(new RegExp(`\\b${name}\\b`));
    expect(body).not.toMatch(/out\[[^\]]*\] = \d/); // an answer by its number, not its name
  });

  it('happy: the rebuild scripts declare the codes gate.ts compares with', () => {
    const { locals } = prelude(REBUILD_OPEN.lua);
    expect(locals).toMatchObject({ DONE: '1', PRESENT: '0', LOCK_LOST: '-1' });
    expect(Object.values(REBUILD_CODES)).toEqual([1, 0, -1]);
  });
});

describe('every script names its keys and arguments', () => {
  it.each(all)(
    'happy: %s declares KEYS and ARGV in its order; its body uses each key, by name only',
    (_, s) => {
      const { locals, body } = prelude(s.lua);
      s.keys.forEach((k, i) => {
        expect(locals[k]).toBe(`KEYS[${i + 1}]`);
      });
      s.args.forEach((a, i) => {
        expect(locals[a]).toBe(`ARGV[${i + 1}]`);
      });
      expect(locals.REST).toBe(String(s.args.length + 1));
      expect(body).not.toMatch(/KEYS\[/);
      expect(body).not.toMatch(/ARGV\[\d/);
      for (const k of s.keys) expect(body).toMatch(new RegExp(`\\b${k}\\b`));
    },
  );

  it('happy: scriptArgs puts keys and arguments in the declared order, whatever the object order', () => {
    expect(
      scriptArgs(
        REBUILD_OPEN,
        { lock: 'l', users: 'u', stock: 's', meta: 'm' },
        {
          paused: '0',
          remaining: 4,
          closesAt: 3,
          opensAt: 2,
          quantity: 5,
          token: 't',
        },
        [9],
      ),
    ).toEqual(['m', 's', 'u', 'l', 't', 5, 2, 3, 4, '0', 9]);
  });

  it('error: a name declared twice, or one Lua reserves, is refused', () => {
    expect(() => script({ keys: ['lock'], args: ['lock'] }, 'return 1')).toThrow(/declared twice/);
    expect(() => script({ keys: ['end'] }, 'return 1')).toThrow(/not a Lua name/);
    expect(() => script({ keys: ['a'], codes: { REST: 1 } }, 'return 1')).toThrow(/declared twice/);
  });
});
