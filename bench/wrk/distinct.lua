-- Every request a never-seen account's first page: the handle carries a counter.
--   BENCH_ROUTE  dumpling (POST get-tiktok-profile-videos) or socialfetch (GET .../videos)
--   BENCH_PREFIX handle prefix, so runs do not share accounts
-- done() prints one line "BENCH_JSON {...}" as request.lua does.
local route = os.getenv("BENCH_ROUTE") or "dumpling"
local prefix = os.getenv("BENCH_PREFIX") or "cold"
local counter = 0

function request()
  counter = counter + 1
  local handle = prefix .. counter
  if route == "dumpling" then
    return wrk.format("POST", "/api/v1/get-tiktok-profile-videos",
      {["Authorization"] = "Bearer sk_bench", ["Content-Type"] = "application/json"},
      '{"handle":"' .. handle .. '"}')
  end
  return wrk.format("GET", "/v1/tiktok/profiles/" .. handle .. "/videos",
    {["x-api-key"] = "sfk_bench"})
end

function done(summary, latency, requests)
  io.write(string.format('BENCH_JSON {"requests":%d,"duration_us":%d,"status":%d,' ..
    '"p50_us":%d,"p99_us":%d}\n', summary.requests, summary.duration, summary.errors.status,
    latency:percentile(50), latency:percentile(99)))
end
