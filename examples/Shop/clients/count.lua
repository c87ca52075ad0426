-- wrk script for the Shop's load during a live update: counts the responses and those not 2xx (wrk's own
-- "Non-2xx or 3xx" line lets 3xx through), per thread, and prints one line of totals in done(), with wrk's socket
-- errors, for a test to read:
--   wrk -t2 -c16 -d6s --latency -s count.lua http://127.0.0.1:5080/api/products/7
--   count.lua: requests=41234 responses=41234 non2xx=0 connect=0 read=0 write=0 timeout=0 status=0 maxLatencyMs=84.1
local threads = {}

function setup(thread)
   table.insert(threads, thread)
end

function init(args)
   responses = 0
   non2xx = 0
end

function response(status, headers, body)
   responses = responses + 1
   if status < 200 or status > 299 then
      non2xx = non2xx + 1
   end
end

function done(summary, latency, requests)
   local total_responses, total_non2xx = 0, 0
   for _, thread in ipairs(threads) do
      total_responses = total_responses + thread:get("responses")
      total_non2xx = total_non2xx + thread:get("non2xx")
   end
   local e = summary.errors
   io.write(string.format(
      "count.lua: requests=%d responses=%d non2xx=%d connect=%d read=%d write=%d timeout=%d status=%d maxLatencyMs=%.1f\n",
      summary.requests, total_responses, total_non2xx, e.connect, e.read, e.write, e.timeout, e.status,
      latency.max / 1000.0))
end
