-- POST /hitl/admin/create-decision with the patch ids of IDS_FILE, one per
-- line, in order: ids whose partitions the node this wrk loads holds, so
-- that no request is forwarded (bench/run's owner-routed cluster row). A
-- thread that runs out counts "exhausted" and repeats its last id (an
-- idempotent replay).
package.path = os.getenv("BENCH_LUA") .. "/?.lua;" .. package.path
local c = require("common")

local token, ids, n

function init(args)
  token = "Bearer " .. c.env("HITL_TOKEN")
  ids = {}
  for line in io.lines(c.env("IDS_FILE")) do ids[#ids + 1] = line end
  n = 0
end

function request()
  n = n + 1
  local id = ids[n]
  if id == nil then
    exhausted = exhausted + 1
    id = ids[#ids]
  end
  return wrk.format("POST", "/hitl/admin/create-decision",
    {["Authorization"] = token, ["Content-Type"] = "application/json"},
    c.create_body(id, n))
end
