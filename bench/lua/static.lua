-- The nginx ceiling: GET / answered by `return 200 "ok"`.
package.path = os.getenv("BENCH_LUA") .. "/?.lua;" .. package.path
local c = require("common")

local req

function init(args)
  req = wrk.format("GET", "/")
end

function request()
  return req
end
