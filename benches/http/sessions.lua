-- wrk script: every request carries one of many distinct sessions, read from the file named by
-- the SESSIONS environment variable (one header value per line: "Bearer …" or "preau_session=…").
local sessions = {}
local header = os.getenv("HEADER") or "Authorization"

local function load()
  local path = os.getenv("SESSIONS")
  for line in io.lines(path) do
    if #line > 0 then sessions[#sessions + 1] = line end
  end
end

function setup(thread)
  thread:set("offset", math.random(1, 1000))
end

local i = 0
function init(args)
  load()
  i = offset or 0
end

function request()
  i = i + 1
  local value = sessions[(i % #sessions) + 1]
  return wrk.format("GET", nil, { [header] = value })
end

function done(summary, latency, requests)
  io.write(string.format("p50=%.2fms p99=%.2fms req/s=%.0f errors=%d non2xx=%d\n",
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.requests / (summary.duration / 1e6),
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status))
end
