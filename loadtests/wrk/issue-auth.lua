-- wrk script: POST /coupons/{userId}/issue-async?couponId={couponId} with a bearer JWT, a new user
-- (and a token never seen before) on every request.
--   wrk -s loadtests/wrk/issue-auth.lua http://127.0.0.1:PORT -- <couponId> <tokens file>
-- The file has one "userId token" line per user (loadtests/src/bench/tokens.ts writes it); past its
-- end the script starts again at its first line. Prints "status <code> <count>" lines like issue.lua.
local threads = {}
function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

local coupon = "1"
local users = {}
local tokens = {}
local n = 0
local counter = 0
statuses = {}
function init(args)
  coupon = args[1] or "1"
  for line in io.lines(args[2]) do
    local user, token = line:match("^(%d+) (%S+)$")
    n = n + 1
    users[n] = user
    tokens[n] = "Bearer " .. token
  end
end

function request()
  counter = counter % n + 1
  return wrk.format("POST", "/coupons/" .. users[counter] .. "/issue-async?couponId=" .. coupon,
    { ["Authorization"] = tokens[counter] })
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(threads) do
    for code, k in pairs(thread:get("statuses")) do total[code] = (total[code] or 0) + k end
  end
  for code, k in pairs(total) do io.write(string.format("status %d %d\n", code, k)) end
end
