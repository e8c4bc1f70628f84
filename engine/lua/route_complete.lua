-- Settles a dispatched batch of one route in one step: leases released, dedupe and done marks set,
-- retries scheduled, parked messages put back, and the outcomes published to the results
-- stream for the store writer (DESIGN.md 3.1-3.2). Atomic, so a crash leaves either the
-- leases (which expire and resend) or the settled state, never half of each.
--
-- KEYS[1] loa:{r}:msg   KEYS[2] loa:{r}:lease   KEYS[3] loa:{r}:delayed   KEYS[4] loa:{r}:sent
-- KEYS[5] loa:{r}:results   KEYS[6] loa:{r}:lanes   KEYS[7] loa:{r}:asleep
-- KEYS[8] loa:{r}:pri   KEYS[9] loa:{r}:done   KEYS[10..] loa:{r}:lane:<cid> named by index in
-- the ops below
-- ARGV[1] outcome events for the results stream ('' for none)
-- ARGV[2] how long dedupe and done marks are kept (s)
-- ARGV[3..] ops, four fields each: op, id, a, b
--   'sent'  id - -            the gateway took it: release, drop the payload, mark it sent
--   'final' id - -            failed, expired, opted out...: release, drop the payload, mark
--                             it done (loa:{r}:done), so that a replay of the outbox made
--                             before its outcome reaches the store does not send it again
--   'retry' id delay_us payload   due again after delay_us (Redis TIME), with the new payload
--   'park'  id key_index wake_s   back to the head of its lane (KEYS[key_index]; 8 = the
--                                 priority lane). wake_s > 0: the lane sleeps until then
--                                 (quiet hours); the campaign id is the lane key's suffix.
-- Parked messages of one lane must come in reverse order (each goes to the head).
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])

-- Redis commands take at most this many arguments from one Lua call (Lua's C stack).
local function chunked(cmd, key, list, step)
  for i = 1, #list, step do
    redis.call(cmd, key, unpack(list, i, math.min(#list, i + step - 1)))
  end
end

local released, dropped, marks, done = {}, {}, {}, {}
for i = 3, #ARGV, 4 do
  local op, id, a, b = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
  released[#released + 1] = id
  if op == 'sent' then
    dropped[#dropped + 1] = id
    marks[#marks + 1] = now
    marks[#marks + 1] = id
  elseif op == 'final' then
    dropped[#dropped + 1] = id
    done[#done + 1] = now
    done[#done + 1] = id
  elseif op == 'retry' then
    redis.call('HSET', KEYS[1], id, b)
    redis.call('ZADD', KEYS[3], now + tonumber(a), id)
  elseif op == 'park' then
    local key = KEYS[tonumber(a)]
    redis.call('LPUSH', key, id)
    local wake = tonumber(b)
    if wake > 0 then
      local cid = string.match(key, ':lane:(%d+)$')
      redis.call('ZREM', KEYS[6], cid)
      redis.call('ZADD', KEYS[7], wake, cid)
    end
  end
end
if #released > 0 then chunked('ZREM', KEYS[2], released, 1000) end
if #dropped > 0 then chunked('HDEL', KEYS[1], dropped, 1000) end
if #marks > 0 then chunked('ZADD', KEYS[4], marks, 2000) end
if #done > 0 then chunked('ZADD', KEYS[9], done, 2000) end

if ARGV[1] ~= '' then
  redis.call('XADD', KEYS[5], '*', 'e', ARGV[1])
end
-- Marks only need to outlive any lease or replay of their message; trim the old ones.
redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now - tonumber(ARGV[2]) * 1000000)
redis.call('ZREMRANGEBYSCORE', KEYS[9], '-inf', now - tonumber(ARGV[2]) * 1000000)
return 1
