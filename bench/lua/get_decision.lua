-- GET /hitl/decisions/{decision_id} for random ids among
-- <READ_PREFIX>1 .. <READ_PREFIX>READ_N (pre-loaded by bench/run).
package.path = os.getenv("BENCH_LUA") .. "/?.lua;" .. package.path
local c = require("common")

local hdr, prefix, count

function init(args)
  hdr = {["Authorization"] = "Bearer " .. c.env("HITL_TOKEN")}
  prefix = c.env("READ_PREFIX")
  count = tonumber(c.env("READ_N"))
  math.randomseed(os.time() * 100 + tid)
end

function request()
  return wrk.format("GET", "/hitl/decisions/" .. prefix .. math.random(1, count),
    hdr)
end
