-- wrk script that places orders (POST /api/orders, one unit of a product that changes with each request) and counts
-- the answers per thread: 201 (placed), 409 (refused: no stock left, an answer the shop may give) and anything
-- else; prints one line of totals in done(), with wrk's socket errors, for a test to read. Each connection waits 10 ms
-- between its orders (at most 1,600 a second with 16 connections), so that a few seconds of it do not sell the
-- shop's whole stock (about 40,000 units) and leave nothing but refusals for the next update:
--   wrk -t2 -c16 -d6s -s orders.lua http://127.0.0.1:5080/api/orders
--   orders.lua: requests=41234 responses=41234 placed=35000 refused=6234 other=0 connect=0 read=0 write=0 timeout=0 maxLatencyMs=84.1
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

local threads = {}
local sent = 0

function setup(thread)
   table.insert(threads, thread)
end

function init(args)
   responses = 0
   placed = 0
   refused = 0
   other = 0
end

function request()
   sent = sent + 1
   local body = string.format('{"productId":%d,"quantity":1,"customer":"wrk"}', (sent * 7) % 2000 + 1)
   return wrk.format(nil, nil, nil, body)
end

function delay()
   return 10
end

function response(status, headers, body)
   responses = responses + 1
   if status == 201 then
      placed = placed + 1
   elseif status == 409 then
      refused = refused + 1
   else
      other = other + 1
   end
end

function done(summary, latency, requests)
   local r, p, f, o = 0, 0, 0, 0
   for _, thread in ipairs(threads) do
      r = r + thread:get("responses")
      p = p + thread:get("placed")
      f = f + thread:get("refused")
      o = o + thread:get("other")
   end
   local e = summary.errors
   io.write(string.format(
      "orders.lua: requests=%d responses=%d placed=%d refused=%d other=%d connect=%d read=%d write=%d timeout=%d maxLatencyMs=%.1f\n",
      summary.requests, r, p, f, o, e.connect, e.read, e.write, e.timeout, latency.max / 1000.0))
end
