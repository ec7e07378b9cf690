import type { Redis } from 'ioredis';

// A Redis script whose keys, leading arguments and answer codes carry names on both sides: the
// names are declared once here, the Lua gets them as locals (a prelude built from the declaration),
// and the TypeScript side passes keys and arguments by name (scriptArgs), so neither side relies on
// a position the other could change.

/** A script's declaration: KEYS and the fixed leading ARGV by name, its answer codes by name. */
export interface ScriptSpec<K extends string, A extends string> {
  keys: readonly K[];
  /** ARGV[1..n] by name; anything after them is the variadic rest, from ARGV[REST] on. */
  args?: readonly A[];
  /** Named integers the script answers with (Lua locals of the same names). */
  codes?: Readonly<Record<string, number>>;
}

export interface Script<K extends string, A extends string> {
  readonly keys: readonly K[];
  readonly args: readonly A[];
  /** The Lua as sent to Redis: the prelude of locals, then the body. */
  readonly lua: string;
}

const LUA_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Lua's keywords, and the globals the scripts use (a local of that name would hide it). */
const RESERVED = new Set(
  [
    'and break do else elseif end false for function goto if in local nil not or repeat return then',
    'true until while redis KEYS ARGV math string table tonumber tostring unpack',
  ]
    .join(' ')
    .split(' '),
);

/** `local a, b = x, y` (nothing for no names). */
const locals = (names: readonly string[], values: ReadonlyArray<string | number>) =>
  names.length > 0 ? `local ${names.join(', ')} = ${values.join(', ')}\n` : '';

/**
 * Builds a script: `local meta, stock = KEYS[1], KEYS[2]`, `local token = ARGV[1]`, `local REST = 2`
 * (the index of the first variadic argument) and `local SOLD_OUT = 2` for each code, then `body`.
 * Throws on a name that is not a Lua identifier or is declared twice (one would shadow the other).
 */
export function script<const K extends string, const A extends string = never>(
  spec: ScriptSpec<K, A>,
  body: string,
): Script<K, A> {
  const { keys } = spec;
  const args = spec.args ?? [];
  const codes = Object.entries(spec.codes ?? {});
  const names = [...keys, ...args, 'REST', ...codes.map(([n]) => n)];
  for (const n of names)
    if (!LUA_NAME.test(n) || RESERVED.has(n)) throw new Error(`"${n}" is not a Lua name`);
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice) throw new Error(`"${twice}" is declared twice`);
  const prelude = [
    locals(
      keys,
      keys.map((_, i) => `KEYS[${i + 1}]`),
    ),
    locals(
      args,
      args.map((_, i) => `ARGV[${i + 1}]`),
    ),
    `local REST = ${args.length + 1}\n`,
    locals(
      codes.map(([n]) => n),
      codes.map(([, v]) => v),
    ),
  ].join('');
  return { keys, args, lua: prelude + body.replace(/^\n/, '') };
}

/** KEYS then ARGV for a call of `s`, each in the order the script declares, then the rest. */
export function scriptArgs<K extends string, A extends string>(
  s: Script<K, A>,
  keys: Readonly<Record<K, string>>,
  args: Readonly<Record<A, string | number>>,
  rest: ReadonlyArray<string | number> = [],
): Array<string | number> {
  const out: Array<string | number> = s.keys.map((k) => keys[k]);
  for (const a of s.args) out.push(args[a]);
  for (const r of rest) out.push(r);
  return out;
}

/** Runs `s` with EVAL (ioredis's defineCommand is for the scripts called in pipelines, gate.ts). */
export function evalScript<K extends string, A extends string>(
  redis: Pick<Redis, 'eval'>,
  s: Script<K, A>,
  keys: Readonly<Record<K, string>>,
  args: Readonly<Record<A, string | number>>,
  rest: ReadonlyArray<string | number> = [],
): Promise<unknown> {
  return redis.eval(s.lua, s.keys.length, ...scriptArgs(s, keys, args, rest));
}

/** The name of each code (code → name), for decoding a script's answer. */
export function codeNames<C extends Readonly<Record<string, number>>>(
  codes: C,
): ReadonlyMap<number, keyof C> {
  return new Map(Object.entries(codes).map(([name, code]) => [code, name as keyof C]));
}
