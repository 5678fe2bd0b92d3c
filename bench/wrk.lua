-- wrk script shared by every load run of bench/bench.py, configured through
-- the environment:
--   BENCH_METHOD        GET (default) or POST
--   BENCH_BODY          request body (POST)
--   BENCH_AUTH          value of the Authorization header, if any
--   BENCH_MAX_REQUESTS  stop once this many responses arrived (all threads
--                       together; a thread stops at its share), 0 = no limit.
--                       wrk still runs until its -d duration is over.
--   BENCH_DELAY_MS      pause of each connection before each request, to pace
--                       the load (64 connections and 10 ms: at most 6,400/s)
-- done() prints one JSON line prefixed "BENCH_JSON " with the totals and the
-- latency percentiles in microseconds, which bench.py parses.

wrk.method = os.getenv("BENCH_METHOD") or "GET"
wrk.body = os.getenv("BENCH_BODY")
if wrk.body then wrk.headers["Content-Type"] = "application/xml" end
local auth = os.getenv("BENCH_AUTH")
if auth then wrk.headers["Authorization"] = auth end

local delay_ms = tonumber(os.getenv("BENCH_DELAY_MS") or "0")
if delay_ms > 0 then
  function delay() return delay_ms end
end

local max_requests = tonumber(os.getenv("BENCH_MAX_REQUESTS") or "0")
local share = 0     -- this thread's stop count
local answered = 0  -- responses this thread received

-- bench.py passes wrk's thread count after "--".
function init(args)
  local threads = tonumber(args[1] or "1")
  if max_requests > 0 then share = math.ceil(max_requests / threads) end
end

function response(status, headers, body)
  answered = answered + 1
  if share > 0 and answered >= share then wrk.thread:stop() end
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"non_2xx":%d,"socket_errors":%d,' ..
    '"connect_errors":%d,"read_errors":%d,"write_errors":%d,"timeouts":%d,' ..
    '"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d}\n',
    summary.requests, summary.duration, errors.status,
    errors.connect + errors.read + errors.write + errors.timeout,
    errors.connect, errors.read, errors.write, errors.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
