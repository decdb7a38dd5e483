-- Shared by every wrk script of bench/run: thread numbering, error counting
-- (non-2xx responses via response()), and one machine-readable summary line
-- printed by done():
--   BENCH requests=.. duration_us=.. non2xx=.. sock_errors=.. p50_us=.. ...
-- Environment (read in every thread's Lua state):
--   HITL_TOKEN      bearer token (service or reviewer, per script)
--   HITL_TOKEN_SVC  service token (mixed script)
--   HITL_TOKEN_REV  reviewer token (mixed script)
--   BENCH_PREFIX    prefix making patch ids unique per run and scenario
local M = {}

local threads = {}
local nthreads = 0

-- Runs in the main Lua state, once per wrk thread, before the run.
function setup(thread)
  thread:set("tid", nthreads)
  nthreads = nthreads + 1
  thread:set("nthreads_hint", nthreads)
  table.insert(threads, thread)
  if M.on_setup then M.on_setup(thread, nthreads - 1) end
end

non2xx = 0
exhausted = 0
status_counts = {}

function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
    status_counts[status] = (status_counts[status] or 0) + 1
    if non2xx <= 3 and os.getenv("BENCH_DEBUG") then
      io.stderr:write("non-2xx " .. status .. ": " .. tostring(body) .. "\n")
    end
  end
end

function done(summary, latency, requests)
  local bad, exh = 0, 0
  local codes = {}
  for _, t in ipairs(threads) do
    bad = bad + (t:get("non2xx") or 0)
    exh = exh + (t:get("exhausted") or 0)
    local sc = t:get("status_counts")
    if sc then
      for k, v in pairs(sc) do codes[k] = (codes[k] or 0) + v end
    end
  end
  local e = summary.errors
  local sock = e.connect + e.read + e.write + e.timeout
  local parts = {}
  for k, v in pairs(codes) do table.insert(parts, k .. ":" .. v) end
  table.sort(parts)
  local codes_s = #parts > 0 and table.concat(parts, ",") or "-"
  io.write(string.format(
    "BENCH requests=%d duration_us=%d non2xx=%d sock_errors=%d exhausted=%d "
    .. "p50_us=%d p90_us=%d p99_us=%d p999_us=%d max_us=%d mean_us=%.0f codes=%s\n",
    summary.requests, summary.duration, bad, sock, exh,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9), latency.max, latency.mean, codes_s))
end

function M.env(name, default)
  local v = os.getenv(name)
  if v == nil or v == "" then
    if default ~= nil then return default end
    error("environment variable " .. name .. " is not set")
  end
  return v
end

-- Body of a create-decision request; every other one is auto-approvable
-- (confidence 0.99 vs 0.5), all severity high with ML and wargaming passed.
function M.create_body(patch_id, n)
  local conf = (n % 2 == 0) and "0.99" or "0.5"
  return '{"patch_id":"' .. patch_id .. '",'
    .. '"patch_metadata":{"apv_id":"apv-' .. patch_id .. '",'
    .. '"package_name":"openssl","current_version":"3.0.1",'
    .. '"target_version":"3.0.2","severity":"high","cvss_score":8.1},'
    .. '"ml_prediction":{"model_version":"xgb-7","confidence":' .. conf
    .. ',"prediction":true},'
    .. '"wargaming_result":{"phase1_success":true,"phase2_success":true,'
    .. '"validation_passed":true}}'
end

return M
