-- POST /hitl/admin/create-decision with a unique patch_id per request.
package.path = os.getenv("BENCH_LUA") .. "/?.lua;" .. package.path
local c = require("common")

local token, prefix, n

function init(args)
  token = "Bearer " .. c.env("HITL_TOKEN")
  prefix = c.env("BENCH_PREFIX") .. "-" .. tid .. "-"
  n = 0
end

function request()
  n = n + 1
  local body = c.create_body(prefix .. n, n)
  return wrk.format("POST", "/hitl/admin/create-decision",
    {["Authorization"] = token, ["Content-Type"] = "application/json"}, body)
end
