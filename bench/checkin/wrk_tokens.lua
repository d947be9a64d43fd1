-- wrk script of bench/run_checkin.sh: each request carries the next device's bearer token
-- (the file named by ALOFT_TOKENS, one a line), so the requests spread over the whole fleet
-- as aloft-load's do; at the end, one JSON line for bench/checkin/table.py.
local tokens = {}
local next_token = 0

function init(args)
  for line in io.lines(os.getenv("ALOFT_TOKENS")) do
    tokens[#tokens + 1] = line
  end
end

function request()
  next_token = next_token % #tokens + 1
  return wrk.format("GET", nil, { ["Authorization"] = "Bearer " .. tokens[next_token] })
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%d,"duration_us":%d,"status_errors":%d,"transport_errors":%d,' ..
    '"p50_us":%d,"p99_us":%d,"p999_us":%d}\n',
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(99), latency:percentile(99.9)))
end
