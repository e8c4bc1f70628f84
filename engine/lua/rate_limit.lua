-- GCRA rate limiter counted in the gateway's cost unit (SMS segments), DESIGN.md 3.3.
--
-- KEYS[1]  loa:{route}:limit, a hash: rate (units per second), burst (units), tat (µs)
-- ARGV[1]  cost of this message in units (e.g. its SMS segments), a positive integer
--
-- Returns {1, 0} when allowed, {0, wait_us} when the caller must wait wait_us microseconds,
-- and {-1, 0} when the route has no rate configured.
--
-- O(1): one TIME, one HMGET, at most one HSET. The clock is Redis's own (TIME), so every
-- dispatcher on every machine shares one notion of now; the rate is a value in the hash, so it
-- can change while dispatchers run. Scripts replicate by effects (Redis 7), so TIME is allowed.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local cfg = redis.call('HMGET', KEYS[1], 'rate', 'burst', 'tat')
local rate = tonumber(cfg[1])
if not rate or rate <= 0 then
  return {-1, 0}
end
local cost = tonumber(ARGV[1])
local burst = tonumber(cfg[2]) or 1
-- A message dearer than the burst must still pass once the bucket is full.
if burst < cost then
  burst = cost
end
local interval = 1000000 / rate
local tat = tonumber(cfg[3]) or now
if tat < now then
  tat = now
end
local new_tat = tat + cost * interval
local allow_at = new_tat - burst * interval
if allow_at > now then
  return {0, math.ceil(allow_at - now)}
end
redis.call('HSET', KEYS[1], 'tat', string.format('%.0f', new_tat))
return {1, 0}
