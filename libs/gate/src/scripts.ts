// The gate's Lua scripts. Every script touches only keys of one coupon (one hash tag, see
// contracts/src/keys.ts), so each runs atomically on one Redis Cluster slot.

// One script decides atomically; check-then-act in separate calls over-issues. It decides many users
// of one coupon in one call (the issuer's batches), each in order (stock taken before the user is
// added), at one instant. Returns integers (ioredis 6 speaks RESP3): one ADMIT_OUTCOMES index per user.
// KEYS: meta, stock, users. ARGV: userIds.
export const ADMIT_MANY = `
local out = {}
local meta = redis.call('HMGET', KEYS[1], 'opensAt', 'closesAt')
local closed
if not meta[1] then closed = 3 else
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  if now < tonumber(meta[1]) or now >= tonumber(meta[2]) then closed = 4 end
end
if closed then
  for i = 1, #ARGV do out[i] = closed end
  return out
end
local left = tonumber(redis.call('GET', KEYS[2]) or '0')
for i = 1, #ARGV do
  if redis.call('SISMEMBER', KEYS[3], ARGV[i]) == 1 then out[i] = 1
  elseif left <= 0 then out[i] = 2
  else
    redis.call('DECR', KEYS[2])
    redis.call('SADD', KEYS[3], ARGV[i])
    left = left - 1
    out[i] = 0
  end
end
return out
`;

// Gives a slot back after a definite produce failure. Only if the user was admitted. Also forgets
// reconcile's grace for the user (KEYS[4]): a later admission is a new one and gets a grace of its own.
// KEYS: meta, stock, users, reconcile grace. ARGV: userId.
export const RELEASE = `
redis.call('HDEL', KEYS[4], ARGV[1])
if redis.call('SREM', KEYS[3], ARGV[1]) == 1 then
  redis.call('INCR', KEYS[2])
  return 1
end
return 0
`;

// Loads a new coupon's gate: meta, stock, and the given users.
// KEYS: meta, stock, users. ARGV: quantity, opensAt, closesAt, remaining, users...
export const LOAD = `
redis.call('DEL', KEYS[2], KEYS[3])
redis.call('HSET', KEYS[1], 'quantity', ARGV[1], 'opensAt', ARGV[2], 'closesAt', ARGV[3])
redis.call('SET', KEYS[2], ARGV[4])
for i = 5, #ARGV do redis.call('SADD', KEYS[3], ARGV[i]) end
return 1
`;

// A rebuild in steps, fenced by the rebuild lock (KEYS[4] must still hold this rebuild's token):
// BEGIN closes the gate (meta gone: the admit script answers COUPON_NOT_FOUND) and empties its users,
// ADD_USERS fills them in chunks, OPEN sets stock and meta last, so nobody is admitted against a
// half-loaded set. Without `force` BEGIN refuses a gate that exists (someone rebuilt it meanwhile).
// With `force` it closes a live gate but keeps its users (the admissions made until that instant):
// a forced rebuild closes first, waits the producer horizon, then reads them.
// BEGIN returns 1, 0 when a gate exists, -1 when the lock is not ours; ADD_USERS and OPEN 1 or -1.
// KEYS: meta, stock, users, lock.
export const REBUILD_BEGIN = `
if redis.call('GET', KEYS[4]) ~= ARGV[1] then return -1 end
if ARGV[2] == 'force' then
  redis.call('DEL', KEYS[1], KEYS[2])
  return 1
end
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
return 1
`;

export const REBUILD_ADD_USERS = `
if redis.call('GET', KEYS[4]) ~= ARGV[1] then return -1 end
for i = 2, #ARGV do redis.call('SADD', KEYS[3], ARGV[i]) end
return 1
`;

// ARGV: token, quantity, opensAt, closesAt, remaining. Stock never above quantity − |users|
// (users a forced BEGIN kept count even if the caller's list missed them).
export const REBUILD_OPEN = `
if redis.call('GET', KEYS[4]) ~= ARGV[1] then return -1 end
local most = math.max(0, tonumber(ARGV[2]) - redis.call('SCARD', KEYS[3]))
redis.call('SET', KEYS[2], math.min(tonumber(ARGV[5]), most))
redis.call('HSET', KEYS[1], 'quantity', ARGV[2], 'opensAt', ARGV[3], 'closesAt', ARGV[4])
return 1
`;

// Adds users that hold a row to the admitted set and lowers stock to quantity − admitted (never
// below 0, never raised: more stock than that would let the gate over-issue, less only under-issues
// and is reported for an operator). Refuses when the gate is gone: that is rewarm's job.
export const ADOPT = `
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
local q = tonumber(redis.call('HGET', KEYS[1], 'quantity'))
local added = 0
for i = 1, #ARGV do added = added + redis.call('SADD', KEYS[3], ARGV[i]) end
local want = math.max(0, q - redis.call('SCARD', KEYS[3]))
if tonumber(redis.call('GET', KEYS[2]) or '0') > want then redis.call('SET', KEYS[2], want) end
return added
`;

// Reconcile's grace per admission, in the hash KEYS[2] (user → "firstSeen:actedAt", Redis clock ms;
// a bare number from older versions is a firstSeen). A user is overdue once the grace ARGV[1] has
// passed since the later of the two. AGE records users first seen now and splits still-admitted
// candidates (users no longer in the set KEYS[1] are skipped: released meanwhile) into pending and
// overdue; it returns {pending, oldest age ms, overdue users}. Time comes from Redis, one clock for
// every instance. KEYS: users, grace. ARGV: graceMs, users...
const GRACE_PARSE = `
local function parse(v)
  local f, a = string.match(v, '^(%d+):(%d+)$')
  if f then return tonumber(f), tonumber(a) end
  return tonumber(v), 0
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local grace = tonumber(ARGV[1])
`;

export const RECONCILE_AGE = `${GRACE_PARSE}
local pending, oldest, overdue = 0, 0, {}
for i = 2, #ARGV do
  local u = ARGV[i]
  if redis.call('SISMEMBER', KEYS[1], u) == 1 then
    local v = redis.call('HGET', KEYS[2], u)
    local first, acted = now, 0
    if v then first, acted = parse(v) else redis.call('HSET', KEYS[2], u, string.format('%.0f:0', now)) end
    if now - first > oldest then oldest = now - first end
    if now - math.max(first, acted) >= grace then overdue[#overdue + 1] = u else pending = pending + 1 end
  end
end
return {pending, oldest, overdue}
`;

// Claims overdue users for a repair (a republish, or a deferral while their event is in flight): only
// those still admitted and still overdue by the same rule, and restarts their grace (actedAt = now)
// in the same step, so no round acts on an admission younger than the grace. Returns the users claimed.
// KEYS: users, grace. ARGV: graceMs, users...
export const RECONCILE_CLAIM = `${GRACE_PARSE}
local claimed = {}
for i = 2, #ARGV do
  local u = ARGV[i]
  local v = redis.call('HGET', KEYS[2], u)
  if v and redis.call('SISMEMBER', KEYS[1], u) == 1 then
    local first, acted = parse(v)
    if now - math.max(first, acted) >= grace then
      redis.call('HSET', KEYS[2], u, string.format('%.0f:%.0f', first, now))
      claimed[#claimed + 1] = u
    end
  end
end
return claimed
`;

// Releases a lock only if it still holds our token (a lock that expired and was taken by another
// holder is not ours to delete).
export const UNLOCK = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

// Extends a lock's life only if it still holds our token (compare-and-PEXPIRE): a holder that lost
// its lock must not prolong the next holder's. ARGV: token, ttl in ms. Returns 1, or 0 when not ours.
export const RENEW = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
`;
