-- wrk script: the ordo-loadgen mix as far as wrk allows (README.md compares the two).
--
--   wrk -t2 -c64 -d10s --latency -s bench/loadgen/mix.lua http://127.0.0.1:8080 \
--       -- place=70,get=20,ship=5,pay=5 [API_KEY]
--
-- Each wrk thread has its own Lua state: it remembers the order ids of its own placements
-- (the newest 10,000) and draws get/ship/pay among them; until it has one, every request is a
-- place. wrk does not tell response() which request an answer belongs to, so placements are
-- recognised by their 201 status (only POST /v1/orders answers 201, docs/api.md).
-- wrk measures latency from the actual send (closed loop): no coordinated-omission correction.

local ring_max = 10000
local ids, ring_next = {}, 1
local mix, mix_total = {}, 0
local key
local run_stamp
-- `thread_id` is a global on purpose: setup() sets it in each thread's state with thread:set,
-- which a local would shadow.
local placed, shipped = 0, 0
-- per-thread status counts, read by done() through thread:get
s2xx, s409, s429, s4xx, s5xx = 0, 0, 0, 0, 0

local threads = {}

function setup(thread)
  thread:set("thread_id", #threads)
  table.insert(threads, thread)
end

function init(args)
  local spec = args[1] or "place=70,get=20,ship=5,pay=5"
  key = args[2]
  for op, weight in string.gmatch(spec, "(%a+)=(%d+)") do
    weight = tonumber(weight)
    if weight > 0 then
      mix_total = mix_total + weight
      table.insert(mix, { op = op, upto = mix_total })
    end
  end
  thread_id = thread_id or 0
  run_stamp = os.time()
  math.randomseed(run_stamp + thread_id * 7919)
end

local function headers(extra)
  local h = { ["Content-Type"] = "application/json" }
  if key then h["Authorization"] = "Bearer " .. key end
  for k, v in pairs(extra or {}) do h[k] = v end
  return h
end

local function draw_op()
  if #ids == 0 then return "place" end
  local r = math.random(1, mix_total)
  for _, m in ipairs(mix) do
    if r <= m.upto then return m.op end
  end
  return "place"
end

local function place()
  placed = placed + 1
  local lines = {}
  for i = 1, math.random(1, 3) do
    local sku = math.random(0, 999)
    lines[i] = string.format(
      '{"sku":"SKU-%05d","quantity":"%d","unit_price":{"amount_minor":"%d","currency":"EUR"}}',
      sku, math.random(1, 3), 100 + (sku * 7919) % 9900)
  end
  local body = string.format(
    '{"customer_id":"c-%d","merchant_id":"m-%d","currency":"EUR","lines":[%s],' ..
    '"shipping_address":{"name":"A","line1":"Main St 1","city":"Berlin",' ..
    '"postal_code":"10115","country":"DE"}}',
    math.random(0, 9999), math.random(0, 9), table.concat(lines, ","))
  local idem = string.format("wrk-%d-%d-%d", run_stamp, thread_id, placed)
  return wrk.format("POST", "/v1/orders", headers({ ["Idempotency-Key"] = idem }), body)
end

function request()
  local op = draw_op()
  if op == "place" then return place() end
  local id = ids[math.random(1, #ids)]
  if op == "get" then
    local h = {}
    if key then h["Authorization"] = "Bearer " .. key end
    return wrk.format("GET", "/v1/orders/" .. id, h)
  elseif op == "ship" then
    shipped = shipped + 1
    return wrk.format("POST", "/v1/orders/" .. id .. "/shipment", headers(),
      string.format('{"carrier":"LG","tracking_number":"T%d-%d"}', thread_id, shipped))
  else
    return wrk.format("POST", "/v1/webhooks/payment", headers(),
      string.format('{"order_id":"%s","result":"authorized","payment_id":"p-%s"}', id, id))
  end
end

function response(status, _, body)
  if status >= 200 and status < 300 then s2xx = s2xx + 1
  elseif status == 409 then s409 = s409 + 1
  elseif status == 429 then s429 = s429 + 1
  elseif status >= 400 and status < 500 then s4xx = s4xx + 1
  elseif status >= 500 then s5xx = s5xx + 1 end
  if status == 201 then
    local id = string.match(body, '"order_id"%s*:%s*"([%w_%-]+)"')
    if id then
      ids[ring_next] = id
      ring_next = ring_next % ring_max + 1
    end
  end
end

function done(summary, latency, _)
  local c = { s2xx = 0, s409 = 0, s429 = 0, s4xx = 0, s5xx = 0 }
  for _, t in ipairs(threads) do
    for k in pairs(c) do c[k] = c[k] + (t:get(k) or 0) end
  end
  local secs = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format(
    '{"tool":"wrk","requests":%d,"rps":%.1f,"p50_ms":%.3f,"p99_ms":%.3f,"p999_ms":%.3f,' ..
    '"max_ms":%.3f,"status_2xx":%d,"status_409":%d,"status_429":%d,"status_4xx":%d,' ..
    '"status_5xx":%d,"conn_errors":%d,"timeouts":%d}\n',
    summary.requests, summary.requests / secs, latency:percentile(50) / 1e3,
    latency:percentile(99) / 1e3, latency:percentile(99.9) / 1e3, latency.max / 1e3,
    c.s2xx, c.s409, c.s429, c.s4xx, c.s5xx, e.connect + e.read + e.write, e.timeout))
end
