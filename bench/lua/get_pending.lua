-- GET /hitl/patches/pending?limit=50 (reviewer token).
package.path = os.getenv("BENCH_LUA") .. "/?.lua;" .. package.path
local c = require("common")

local req

function init(args)
  req = wrk.format("GET", "/hitl/patches/pending?limit=50",
    {["Authorization"] = "Bearer " .. c.env("HITL_TOKEN")})
end

function request()
  return req
end
