-- wrk script: POST /coupons/{userId}/issue-async?couponId={couponId}, a new user on every request.
--   wrk -s loadtests/wrk/issue.lua http://127.0.0.1:3000 -- <couponId> <firstUserId>
-- Each wrk thread takes its own range of 100,000,000 user ids. Prints "status <code> <count>" lines
-- at the end, so a benchmark can tell 202s from 409s, 429s and 503s.
local threads = {}
function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

local counter = 0
local coupon = "1"
local base = 0
statuses = {}
function init(args)
  coupon = args[1] or "1"
  base = (tonumber(args[2]) or 1) + (tid or 0) * 100000000
end

function request()
  counter = counter + 1
  -- %.0f: LuaJIT prints large numbers in scientific notation with tostring()
  return wrk.format("POST", string.format("/coupons/%.0f/issue-async?couponId=%s", base + counter, coupon))
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(threads) do
    for code, n in pairs(thread:get("statuses")) do total[code] = (total[code] or 0) + n end
  end
  for code, n in pairs(total) do io.write(string.format("status %d %d\n", code, n)) end
end
