-- POST /hitl/patches/{patch_id}/approve, each request on a different pending
-- decision. bench/run pre-loads patch ids <APPROVE_PREFIX>1 .. <APPROVE_PREFIX>N;
-- wrk thread t of T takes the slice [t*N/T + 1, (t+1)*N/T]. A thread that runs
-- out of its slice counts "exhausted" and sends requests that fail (404).
package.path = os.getenv("BENCH_LUA") .. "/?.lua;" .. package.path
local c = require("common")

local token, prefix, next_id, last_id

function init(args)
  token = "Bearer " .. c.env("HITL_TOKEN")
  prefix = c.env("APPROVE_PREFIX")
  local total = tonumber(c.env("APPROVE_N"))
  local nt = tonumber(c.env("WRK_THREADS"))
  local per = math.floor(total / nt)
  next_id = tid * per + 1
  last_id = next_id + per - 1
end

function request()
  local id
  if next_id <= last_id then
    id = prefix .. next_id
    next_id = next_id + 1
  else
    exhausted = exhausted + 1
    id = prefix .. "exhausted"
  end
  return wrk.format("POST", "/hitl/patches/" .. id .. "/approve",
    {["Authorization"] = token, ["Content-Type"] = "application/json"}, "{}")
end
