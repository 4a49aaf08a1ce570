-- request.lua's request at a fixed rate: each connection waits a random think time
-- before each request (uniform, mean BENCH_DELAY_MS milliseconds), so 32 connections
-- offer about 32000 / (BENCH_DELAY_MS + latency) requests a second, below what the
-- server can take, and the latency wrk reports is service, not a queue of wrk's making.
-- BENCH_REQUEST_LUA names request.lua (wrk runs this file from the current directory).
dofile(os.getenv("BENCH_REQUEST_LUA"))
local mean = tonumber(os.getenv("BENCH_DELAY_MS"))

math.randomseed(os.time())

function delay()
  return math.random(0, 2 * mean)
end
