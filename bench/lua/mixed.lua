-- Mixed load: 70 % reads (50 % GET decision by id, 20 % GET pending),
-- 20 % create-decision, 10 % approve of a distinct pre-loaded pending decision.
-- A fixed, interleaved 10-step cycle per thread keeps the shares exact.
package.path = os.getenv("BENCH_LUA") .. "/?.lua;" .. package.path
local c = require("common")

local svc, rev, read_prefix, read_n, approve_prefix, next_id, last_id
local prefix, n, step, pending_req
-- r = GET decision, p = GET pending, c = create, a = approve
local cycle = {"r", "c", "r", "p", "a", "r", "c", "r", "p", "r"}

function init(args)
  svc = "Bearer " .. c.env("HITL_TOKEN_SVC")
  rev = "Bearer " .. c.env("HITL_TOKEN_REV")
  read_prefix = c.env("READ_PREFIX")
  read_n = tonumber(c.env("READ_N"))
  approve_prefix = c.env("APPROVE_PREFIX")
  local total = tonumber(c.env("APPROVE_N"))
  local nt = tonumber(c.env("WRK_THREADS"))
  local per = math.floor(total / nt)
  next_id = tid * per + 1
  last_id = next_id + per - 1
  prefix = c.env("BENCH_PREFIX") .. "-" .. tid .. "-"
  n = 0
  step = tid
  math.randomseed(os.time() * 100 + tid)
  pending_req = wrk.format("GET", "/hitl/patches/pending?limit=50",
    {["Authorization"] = rev})
end

function request()
  step = step % #cycle + 1
  local kind = cycle[step]
  if kind == "r" then
    return wrk.format("GET", "/hitl/decisions/" .. read_prefix
      .. math.random(1, read_n), {["Authorization"] = svc})
  elseif kind == "p" then
    return pending_req
  elseif kind == "c" then
    n = n + 1
    return wrk.format("POST", "/hitl/admin/create-decision",
      {["Authorization"] = svc, ["Content-Type"] = "application/json"},
      c.create_body(prefix .. n, n))
  else
    local id
    if next_id <= last_id then
      id = approve_prefix .. next_id
      next_id = next_id + 1
    else
      exhausted = exhausted + 1
      id = approve_prefix .. "exhausted"
    end
    return wrk.format("POST", "/hitl/patches/" .. id .. "/approve",
      {["Authorization"] = rev, ["Content-Type"] = "application/json"}, "{}")
  end
end
