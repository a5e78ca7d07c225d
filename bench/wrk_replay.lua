-- Replays ONE pre-signed request (see bench/run_sts.py) on every connection, unchanged.
--
-- The request comes from the file named by WRK_REQUEST:
--   line 1: method
--   line 2: path (with query string, if any)
--   then "Name: value" header lines, one blank line, and the body (the rest of the file, as is).
-- Content-Length is added by wrk. AWS (and rolehop) accept a replayed SigV4 signature inside its
-- 15-minute window, so the same bytes can be sent for the whole run.
--
-- done() prints one line "RESULT {json}" with exact figures from wrk's own histogram (microseconds),
-- which run_sts.py reads; wrk's human-readable report (with --latency) is printed before it.

local path = os.getenv("WRK_REQUEST")
if not path then
   error("WRK_REQUEST must name the request file written by bench/run_sts.py")
end
local f = assert(io.open(path, "rb"))
local text = f:read("*a")
f:close()

local head, body = text:match("^(.-)\r?\n\r?\n(.*)$")
assert(head, "request file: no blank line between headers and body")
local lines = {}
for line in (head .. "\n"):gmatch("(.-)\r?\n") do
   lines[#lines + 1] = line
end

wrk.method = lines[1]
wrk.path = lines[2]
wrk.headers = {}
for i = 3, #lines do
   local name, value = lines[i]:match("^([^:]+):%s?(.*)$")
   assert(name, "request file: bad header line " .. lines[i])
   wrk.headers[name] = value
end
if #body > 0 then
   wrk.body = body
else
   wrk.body = nil
end

function done(summary, latency, requests)
   local e = summary.errors
   io.write(string.format(
      'RESULT {"requests": %d, "duration_us": %d, "bytes": %d, '
         .. '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, '
         .. '"latency_us": {"min": %d, "mean": %.1f, "p50": %d, "p90": %d, "p99": %d, "max": %d}}\n',
      summary.requests, summary.duration, summary.bytes,
      e.connect, e.read, e.write, e.status, e.timeout,
      latency.min, latency.mean, latency:percentile(50), latency:percentile(90),
      latency:percentile(99), latency.max
   ))
end
