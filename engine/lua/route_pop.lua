-- Pops a batch of messages from one route's queues, leasing each and charging the route's
-- rate limit as it goes (DESIGN.md 3.2-3.5). One call does what courier's pop and
-- dethrottle do, without trusting the caller's clock for leases or rates (Redis TIME).
--
-- KEYS[1] loa:{r}:pri      LIST   priority lane (replies, transactional)
-- KEYS[2] loa:{r}:lanes    ZSET   bulk lanes that may be served: campaign id -> messages served
-- KEYS[3] loa:{r}:asleep   ZSET   bulk lanes held by quiet hours: campaign id -> wake (unix s)
-- KEYS[4] loa:{r}:msg      HASH   message id -> payload ("units\tlane\tcampaign\t...")
-- KEYS[5] loa:{r}:lease    ZSET   message id -> lease deadline (µs, Redis TIME)
-- KEYS[6] loa:{r}:delayed  ZSET   message id -> due (µs, Redis TIME): retries, expired leases
-- KEYS[7] loa:{r}:sent     ZSET   dedupe marks: message id -> sent, or its final receipt came (µs)
-- KEYS[8] loa:{r}:limit    HASH   rate (units/s; 0 = unlimited), burst (units), tat (µs)
-- KEYS[9] loa:{r}:results  STREAM outcomes, for the store writer
-- KEYS[10] loa:{r}:cancelled SET  campaigns cancelled: their waiting messages are dropped
-- KEYS[11] loa:{r}:paused  SET    campaigns paused
-- KEYS[12..] loa:{r}:lane:<cid>, one per campaign id in ARGV[5..]
-- ARGV[1] most messages to pop   ARGV[2] lease (ms)   ARGV[3] now (unix s, the caller's
-- policy clock; only wakes lanes whose quiet hours ended)   ARGV[4] results backlog cap
--
-- Returns {code, wait_us, {id, payload, ...}, lanes, paused}:
--   code 'ok' (possibly fewer than asked), 'empty', 'limited' (rate: wait wait_us),
--   'norate' (the route has no limit in Redis: set it and call again), 'backpressure'
--   (the results stream is full: the store writer lags). `lanes` lists the serveable bulk
--   lanes (at most 64) when the caller's list was stale or the batch came up short, so
--   the caller passes their keys next time (every key a script touches is in KEYS, 3.4).
--
-- Fairness: the priority lane first, then due retries, then the bulk lanes: what is left of
-- the batch is shared so that the least served lanes catch up and equal lanes get equal
-- shares. Campaigns sharing a route progress at the same rate, and a new campaign joins at the
-- current floor. Each source is read a slice at a time (LRANGE, HMGET, ZMSCORE), so a batch
-- costs a handful of Redis calls however many messages it holds.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local max = tonumber(ARGV[1])
local lease_until = now + tonumber(ARGV[2]) * 1000

if tonumber(ARGV[4]) > 0 and redis.call('XLEN', KEYS[9]) >= tonumber(ARGV[4]) then
  return {'backpressure', 100000, {}, {}, {}}
end

local lane_key = {}
for i = 5, #ARGV do
  lane_key[ARGV[i]] = KEYS[i + 7]
end

local function floor_score()
  local f = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
  return f[2] or 0
end

-- Lanes whose quiet hours are over join again at the floor.
local woke = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', ARGV[3], 'LIMIT', 0, 64)
for _, cid in ipairs(woke) do
  redis.call('ZREM', KEYS[3], cid)
  redis.call('ZADD', KEYS[2], 'NX', floor_score(), cid)
end

-- A lease that ran out means its dispatcher died or hung: the message is due again now.
local expired = redis.call('ZRANGEBYSCORE', KEYS[5], '-inf', now, 'LIMIT', 0, 1000)
if #expired > 0 then
  local due = {}
  for _, id in ipairs(expired) do
    due[#due + 1] = now
    due[#due + 1] = id
  end
  redis.call('ZREM', KEYS[5], unpack(expired))
  redis.call('ZADD', KEYS[6], unpack(due))
end

local cfg = redis.call('HMGET', KEYS[8], 'rate', 'burst', 'tat')
local rate = tonumber(cfg[1])
if not rate then
  return {'norate', 0, {}, {}, {}}
end
local interval, burst, tat, tat0 = 0, 1, now, nil
if rate > 0 then
  interval = 1000000 / rate
  burst = tonumber(cfg[2]) or 1
  tat0 = tonumber(cfg[3]) or now
  -- A dispatcher that comes a little late (a timer, a round trip) keeps up to a quarter of
  -- one unit of lost time, so the route reaches its rate; any 1-second window still holds
  -- at most rate + burst units, as a quarter unit never makes a whole one.
  tat = math.max(tat0, now - interval / 4)
end

local out, n, wait, stale = {}, 0, 0, false
local leases, drops, cancelled = {}, {}, {}

-- Redis commands take at most this many arguments from one Lua call (Lua's C stack).
local function chunked(cmd, key, list, step)
  for i = 1, #list, step do
    local last = math.min(#list, i + step - 1)
    redis.call(cmd, key, unpack(list, i, last))
  end
end

-- Looks at `ids` (the head of one source, in order) and takes what it may: returns how many
-- of them were consumed (taken, or dropped as settled, already sent or cancelled), how many
-- were taken, and whether the rate stopped it. Everything is read with one HMGET and one
-- ZMSCORE, so a batch costs a few Redis calls, not a few per message.
local function admit(ids)
  local payloads = redis.call('HMGET', KEYS[4], unpack(ids))
  local marks = redis.call('ZMSCORE', KEYS[7], unpack(ids))
  local consumed, taken = 0, 0
  for i, id in ipairs(ids) do
    local p = payloads[i]
    local drop = not p
    if p and marks[i] then
      drop = true  -- sent already: its dedupe mark stands
    end
    local cost, cid = 1, nil
    if p and not drop then
      local units, c = string.match(p, '^(%d+)\t%a\t(%d+)\t')
      cost, cid = tonumber(units) or 1, c
      if cid then
        if cancelled[cid] == nil then
          cancelled[cid] = redis.call('SISMEMBER', KEYS[10], cid) == 1
        end
        drop = cancelled[cid]
      end
    end
    if drop then
      if p then drops[#drops + 1] = id end
    else
      if rate > 0 then
        local b = burst
        if b < cost then b = cost end
        local nt = tat + cost * interval
        local allow_at = nt - b * interval
        if allow_at > now then
          wait = math.ceil(allow_at - now)
          return consumed, taken, true
        end
        tat = nt
      end
      leases[#leases + 1] = lease_until
      leases[#leases + 1] = id
      n = n + 1
      out[2 * n - 1] = id
      out[2 * n] = p
      taken = taken + 1
    end
    consumed = consumed + 1
  end
  return consumed, taken, false
end

local stopped = false

-- 1. The priority lane, oldest first.
while not stopped and n < max do
  local ids = redis.call('LRANGE', KEYS[1], 0, max - n - 1)
  if #ids == 0 then break end
  local consumed, _taken
  consumed, _taken, stopped = admit(ids)
  if consumed > 0 then redis.call('LTRIM', KEYS[1], consumed, -1) end
  if consumed < #ids and not stopped then break end
end

-- 2. Retries and returned leases that are due.
while not stopped and n < max do
  local ids = redis.call('ZRANGEBYSCORE', KEYS[6], '-inf', now, 'LIMIT', 0, max - n)
  if #ids == 0 then break end
  local consumed, _taken
  consumed, _taken, stopped = admit(ids)
  if consumed > 0 then redis.call('ZREM', KEYS[6], unpack(ids, 1, consumed)) end
  if consumed < #ids then break end
end

-- 3. The bulk lanes: share what is left of the batch so that the least served lanes catch
-- up and equal lanes get equal shares (water-filling over at most 64 lanes).
if not stopped and n < max then
  local lanes = redis.call('ZRANGE', KEYS[2], 0, 63, 'WITHSCORES')
  local cids, score, quota = {}, {}, {}
  for i = 1, #lanes, 2 do
    cids[#cids + 1] = lanes[i]
    score[#cids] = tonumber(lanes[i + 1])
    quota[#cids] = 0
  end
  for _ = 1, max - n do
    local best = nil
    for i = 1, #cids do
      if best == nil or score[i] + quota[i] < score[best] + quota[best] then best = i end
    end
    if best == nil then break end
    quota[best] = quota[best] + 1
  end
  for i, cid in ipairs(cids) do
    if stopped then break end
    if quota[i] > 0 then
      local key = lane_key[cid]
      if not key then
        stale = true
      else
        local ids = redis.call('LRANGE', key, 0, quota[i] - 1)
        if #ids == 0 then
          redis.call('ZREM', KEYS[2], cid)
        else
          local consumed, taken
          consumed, taken, stopped = admit(ids)
          if consumed > 0 then redis.call('LTRIM', key, consumed, -1) end
          if taken > 0 then redis.call('ZINCRBY', KEYS[2], taken, cid) end
        end
      end
    end
  end
end

if #leases > 0 then chunked('ZADD', KEYS[5], leases, 2000) end
if #drops > 0 then chunked('HDEL', KEYS[4], drops, 1000) end

if rate > 0 and tat ~= tat0 and n > 0 then
  redis.call('HSET', KEYS[8], 'tat', string.format('%.0f', tat))
end

local lanes = {}
if stale or n < max then
  lanes = redis.call('ZRANGE', KEYS[2], 0, 63)
end
local paused = redis.call('SMEMBERS', KEYS[11])
local code = 'ok'
if n == 0 then
  if wait > 0 then
    code = 'limited'
  else
    code = 'empty'
    local next_due = redis.call('ZRANGE', KEYS[6], 0, 0, 'WITHSCORES')
    if next_due[2] then
      wait = math.max(0, tonumber(next_due[2]) - now)
    end
  end
end
return {code, wait, out, lanes, paused}
