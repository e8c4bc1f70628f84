-- wrk script for ops/bench: sends exactly COUNT numbered requests, ids FIRST .. FIRST+COUNT-1,
-- shared out between wrk's threads, then stops. The benchmarks (tests/bench/*_bench.cpp) use it
-- for the webhook receipts and for the Kannel sendsms ceiling.
--
--   wrk -t T -c C -d 600s --timeout 10s -s ops/bench/numbered.lua URL -- \
--       FIRST COUNT T DONE_DIR METHOD PATH [BODY]
--
-- PATH and BODY are templates: {id} becomes the request's number, {phone} the Vietnamese
-- mobile "849" followed by 10000000 + id. A query parameter such as a webhook's secret token is
-- added to PATH (".../receipt?token=SECRET") or to BODY ("id={id}&status=1&token=SECRET").
-- A POST body is sent as application/x-www-form-urlencoded.
--
-- When a thread has its share of answers it writes DONE_DIR/<thread> (a line: answers, errors)
-- and stops; the benchmark waits for every thread's file, then stops wrk with SIGINT. wrk
-- needs a request for every connection that frees up once the share is out: those are
-- "GET /__numbered_lua_filler" (a 404 from every server here), sent at most every 50 ms per
-- connection (delay()), never counted as answers. wrk 4.1 calls request() once on thread 0
-- before it starts, to check the script: that call gets a filler too, so no id is lost.
-- Any status other than 2xx and that 404 counts as an error. done() prints one line:
--   NUMBERED requests=<n> p50_us=<µs> p99_us=<µs> max_us=<µs>
-- with the latency distribution of everything wrk sent (the fillers are at most one per
-- connection).

local threads = {}

function setup(thread)
  thread:set("index", #threads)
  table.insert(threads, thread)
end

local next_id, last_id, step, share, answers, errors, done_dir, method, path, body
local filler = nil
local checked = false  -- thread 0's first request() is wrk's check, never sent
local headers = {}

local function fill(template, id)
  local phone = "849" .. string.format("%d", 10000000 + id)
  return (template:gsub("{id}", string.format("%d", id)):gsub("{phone}", phone))
end

function init(args)
  local first, count = tonumber(args[1]), tonumber(args[2])
  step = tonumber(args[3])
  done_dir, method, path, body = args[4], args[5], args[6], args[7]
  next_id = first + index
  last_id = first + count - 1
  share = 0
  for id = next_id, last_id, step do share = share + 1 end
  answers, errors = 0, 0
  if body then headers["Content-Type"] = "application/x-www-form-urlencoded" end
  filler = wrk.format("GET", "/__numbered_lua_filler")
  if share == 0 then
    local f = io.open(done_dir .. "/" .. index, "w")
    f:write("0 0\n")
    f:close()
  end
end

function request()
  if not checked then
    checked = true
    if index == 0 then return filler end
  end
  if next_id > last_id then return filler end
  local id = next_id
  next_id = next_id + step
  return wrk.format(method, fill(path, id), headers, body and fill(body, id) or nil)
end

function delay()
  if next_id > last_id then return 50 end
  return 0
end

function response(status, hdrs, resp)
  if status == 404 then return end
  answers = answers + 1
  if status < 200 or status > 299 then errors = errors + 1 end
  if answers == share then
    local f = io.open(done_dir .. "/" .. index, "w")
    f:write(answers .. " " .. errors .. "\n")
    f:close()
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  io.write(string.format("NUMBERED requests=%d p50_us=%d p99_us=%d max_us=%d\n",
                         summary.requests, latency:percentile(50), latency:percentile(99),
                         latency.max))
end
