import { gateKeys, gateLockKey, type IssueOutcome, reconcileGraceKey } from '@coupon/contracts';
import { codeNames, script } from './lua.js';

// The gate's Lua scripts. Every script touches only keys of one coupon (one hash tag, see
// contracts/src/keys.ts), so each runs atomically on one Redis Cluster slot. Keys, leading
// arguments and answer codes are named in each declaration (lua.ts makes them the Lua's locals).

/** A coupon's keys by the names the scripts give them (contracts/src/keys.ts lays them out). */
export function couponKeys(couponId: number) {
  const [meta, stock, users] = gateKeys(couponId);
  return { meta, stock, users, grace: reconcileGraceKey(couponId), lock: gateLockKey(couponId) };
}

/**
 * The admit script's answer per user. The integer is what Lua returns (a renumbering needs every
 * issuer upgraded with its script: the old script's numbers would be read by the new names).
 */
export const ADMIT_CODES = {
  ISSUED: 0,
  ALREADY_ISSUED: 1,
  SOLD_OUT: 2,
  COUPON_NOT_FOUND: 3,
  COUPON_NOT_OPEN: 4,
  COUPON_PAUSED: 5,
} as const satisfies Readonly<Partial<Record<IssueOutcome, number>>>;

/** The admit script's integer → its outcome (gate.ts decodes with it). */
export const ADMIT_OUTCOMES = codeNames(ADMIT_CODES);

// One script decides atomically; check-then-act in separate calls over-issues. It decides many users
// of one coupon in one call (the issuer's batches), each in order (stock taken before the user is
// added), at one instant. A paused coupon admits nobody (COUPON_PAUSED). Returns integers (ioredis 6
// speaks RESP3): one ADMIT_CODES value per user. ARGV: userIds.
export const ADMIT_MANY = script(
  { keys: ['meta', 'stock', 'users'], codes: ADMIT_CODES },
  `
local out = {}
local window = redis.call('HMGET', meta, 'opensAt', 'closesAt', 'paused')
local opensAt, closesAt, paused = window[1], window[2], window[3]
local closed
if not opensAt then closed = COUPON_NOT_FOUND elseif paused == '1' then closed = COUPON_PAUSED else
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  if now < tonumber(opensAt) or now >= tonumber(closesAt) then closed = COUPON_NOT_OPEN end
end
if closed then
  for i = REST, #ARGV do out[#out + 1] = closed end
  return out
end
local left = tonumber(redis.call('GET', stock) or '0')
for i = REST, #ARGV do
  local user = ARGV[i]
  if redis.call('SISMEMBER', users, user) == 1 then out[#out + 1] = ALREADY_ISSUED
  elseif left <= 0 then out[#out + 1] = SOLD_OUT
  else
    redis.call('DECR', stock)
    redis.call('SADD', users, user)
    left = left - 1
    out[#out + 1] = ISSUED
  end
end
return out
`,
);

// Gives a slot back after a definite produce failure. Only if the user was admitted. Also forgets
// reconcile's grace for the user: a later admission is a new one and gets a grace of its own.
// Returns 1 when the slot went back, 0 when the user was not admitted.
export const RELEASE = script(
  { keys: ['stock', 'users', 'grace'], args: ['user'] },
  `
redis.call('HDEL', grace, user)
if redis.call('SREM', users, user) == 1 then
  redis.call('INCR', stock)
  return 1
end
return 0
`,
);

// Loads a new coupon's gate: meta, stock, and the given users (ARGV from REST on). paused: '1' or '0'.
export const LOAD = script(
  { keys: ['meta', 'stock', 'users'], args: ['quantity', 'opensAt', 'closesAt', 'remaining', 'paused'] },
  `
redis.call('DEL', stock, users)
redis.call('HSET', meta, 'quantity', quantity, 'opensAt', opensAt, 'closesAt', closesAt, 'paused', paused)
redis.call('SET', stock, remaining)
for i = REST, #ARGV do redis.call('SADD', users, ARGV[i]) end
return 1
`,
);

/** The rebuild scripts' answers: done, a gate is present (BEGIN without force), the lock is not ours. */
export const REBUILD_CODES = { DONE: 1, PRESENT: 0, LOCK_LOST: -1 } as const;

// A rebuild in steps, fenced by the rebuild lock (`lock` must still hold this rebuild's token):
// BEGIN closes the gate (meta gone: the admit script answers COUPON_NOT_FOUND) and empties its users,
// ADD_USERS fills them in chunks, OPEN sets stock and meta last, so nobody is admitted against a
// half-loaded set. Without `force` BEGIN refuses a gate that exists (someone rebuilt it meanwhile).
// With `force` it closes a live gate but keeps its users (the admissions made until that instant):
// a forced rebuild closes first, waits the producer horizon, then reads them.
const REBUILD = { keys: ['meta', 'stock', 'users', 'lock'], codes: REBUILD_CODES } as const;

export const REBUILD_BEGIN = script(
  { ...REBUILD, args: ['token', 'mode'] },
  `
if redis.call('GET', lock) ~= token then return LOCK_LOST end
if mode == 'force' then
  redis.call('DEL', meta, stock)
  return DONE
end
if redis.call('EXISTS', meta) == 1 then return PRESENT end
redis.call('DEL', meta, stock, users)
return DONE
`,
);

export const REBUILD_ADD_USERS = script(
  { keys: ['users', 'lock'], codes: REBUILD_CODES, args: ['token'] },
  `
if redis.call('GET', lock) ~= token then return LOCK_LOST end
for i = REST, #ARGV do redis.call('SADD', users, ARGV[i]) end
return DONE
`,
);

// paused: '1' or '0', from MySQL. Stock never above quantity − |users| (users a forced BEGIN kept
// count even if the caller's list missed them).
export const REBUILD_OPEN = script(
  { ...REBUILD, args: ['token', 'quantity', 'opensAt', 'closesAt', 'remaining', 'paused'] },
  `
if redis.call('GET', lock) ~= token then return LOCK_LOST end
local most = math.max(0, tonumber(quantity) - redis.call('SCARD', users))
redis.call('SET', stock, math.min(tonumber(remaining), most))
redis.call('HSET', meta, 'quantity', quantity, 'opensAt', opensAt, 'closesAt', closesAt, 'paused', paused or '0')
return DONE
`,
);

// An operator's change to a live gate's meta (paused, opensAt, closesAt), read by the admit script in
// the same atomic step as the stock. A gate that is not there is left alone (MySQL holds the change;
// a rebuild reads it from there). ARGV: field, value, field, value... Returns 1 when changed, 0 when
// there is no gate.
export const SET_CONTROLS = script(
  { keys: ['meta'] },
  `
if redis.call('EXISTS', meta) == 0 then return 0 end
redis.call('HSET', meta, unpack(ARGV))
return 1
`,
);

/** ADOPT's answer when the gate is gone (otherwise it answers how many users it added). */
export const ADOPT_CODES = { GONE: -1 } as const;

// Adds users that hold a row to the admitted set and lowers stock to quantity − admitted (never
// below 0, never raised: more stock than that would let the gate over-issue, less only under-issues
// and is reported for an operator). Refuses when the gate is gone: that is rewarm's job.
export const ADOPT = script(
  { keys: ['meta', 'stock', 'users'], codes: ADOPT_CODES },
  `
if redis.call('EXISTS', meta) == 0 then return GONE end
local q = tonumber(redis.call('HGET', meta, 'quantity'))
local added = 0
for i = REST, #ARGV do added = added + redis.call('SADD', users, ARGV[i]) end
local want = math.max(0, q - redis.call('SCARD', users))
if tonumber(redis.call('GET', stock) or '0') > want then redis.call('SET', stock, want) end
return added
`,
);

// Reconcile's grace per admission, in the hash `grace` (user → "firstSeen:actedAt", Redis clock ms;
// a bare number from older versions is a firstSeen). A user is overdue once graceMs has passed since
// the later of the two. AGE records users first seen now and splits still-admitted candidates (users
// no longer in the set `users` are skipped: released meanwhile) into pending and overdue; it returns
// {pending, oldest age ms, overdue users}. Time comes from Redis, one clock for every instance.
const RECONCILE = { keys: ['users', 'grace'], args: ['graceMs'] } as const;
const GRACE_PARSE = `
local function parse(v)
  local f, a = string.match(v, '^(%d+):(%d+)$')
  if f then return tonumber(f), tonumber(a) end
  return tonumber(v), 0
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local wait = tonumber(graceMs)
`;

export const RECONCILE_AGE = script(
  RECONCILE,
  `${GRACE_PARSE}
local pending, oldest, overdue = 0, 0, {}
for i = REST, #ARGV do
  local u = ARGV[i]
  if redis.call('SISMEMBER', users, u) == 1 then
    local v = redis.call('HGET', grace, u)
    local first, acted = now, 0
    if v then first, acted = parse(v) else redis.call('HSET', grace, u, string.format('%.0f:0', now)) end
    if now - first > oldest then oldest = now - first end
    if now - math.max(first, acted) >= wait then overdue[#overdue + 1] = u else pending = pending + 1 end
  end
end
return {pending, oldest, overdue}
`,
);

// Claims overdue users for a repair (a republish, or a deferral while their event is in flight): only
// those still admitted and still overdue by the same rule, and restarts their grace (actedAt = now)
// in the same step, so no round acts on an admission younger than the grace. Returns the users claimed.
export const RECONCILE_CLAIM = script(
  RECONCILE,
  `${GRACE_PARSE}
local claimed = {}
for i = REST, #ARGV do
  local u = ARGV[i]
  local v = redis.call('HGET', grace, u)
  if v and redis.call('SISMEMBER', users, u) == 1 then
    local first, acted = parse(v)
    if now - math.max(first, acted) >= wait then
      redis.call('HSET', grace, u, string.format('%.0f:%.0f', first, now))
      claimed[#claimed + 1] = u
    end
  end
end
return claimed
`,
);

// Releases a lock only if it still holds our token (a lock that expired and was taken by another
// holder is not ours to delete). Returns 1, or 0 when not ours.
export const UNLOCK = script(
  { keys: ['lock'], args: ['token'] },
  `
if redis.call('GET', lock) == token then return redis.call('DEL', lock) end
return 0
`,
);

// Extends a lock's life only if it still holds our token (compare-and-PEXPIRE): a holder that lost
// its lock must not prolong the next holder's. Returns 1, or 0 when not ours.
export const RENEW = script(
  { keys: ['lock'], args: ['token', 'ttlMs'] },
  `
if redis.call('GET', lock) == token then return redis.call('PEXPIRE', lock, ttlMs) end
return 0
`,
);
