-- Per-household frequency cap at dispatch (DESIGN.md 3.6): at most ARGV[3] messages per
-- ARGV[2] seconds. The message is counted when it is allowed, so a household's messages from
-- several campaigns share one cap; a retry of a message already counted is allowed again.
--
-- KEYS[1] loa:fcap:{h<household id>}  ZSET message id -> sent (unix s, the dispatcher's clock)
-- ARGV[1] now (unix s)   ARGV[2] window (s)   ARGV[3] cap   ARGV[4] message id
-- Returns 1 (send) or 0 (capped).
local now, window, cap = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZSCORE', KEYS[1], ARGV[4]) then
  return 1
end
if redis.call('ZCARD', KEYS[1]) >= cap then
  return 0
end
redis.call('ZADD', KEYS[1], now, ARGV[4])
redis.call('EXPIRE', KEYS[1], window)
return 1
