-- Pauses, resumes or cancels one campaign's bulk lane on a route (DESIGN.md 3.6: a pause or a
-- cancel takes effect on queued messages, within a second of the operator's command).
--
-- KEYS[1] loa:{r}:lanes   KEYS[2] loa:{r}:asleep   KEYS[3] loa:{r}:paused
-- KEYS[4] loa:{r}:cancelled   KEYS[5] loa:{r}:lane:<cid>   KEYS[6] loa:{r}:msg
-- ARGV[1] 'pause' | 'resume' | 'cancel'   ARGV[2] campaign id
-- Returns how many messages are left in the lane: a cancel drops at most 10,000 per call (to
-- keep Redis responsive), so the caller repeats it until 0.
local op, cid = ARGV[1], ARGV[2]
if op == 'pause' then
  redis.call('ZREM', KEYS[1], cid)
  redis.call('ZREM', KEYS[2], cid)
  redis.call('SADD', KEYS[3], cid)
elseif op == 'resume' then
  redis.call('SREM', KEYS[3], cid)
  if redis.call('LLEN', KEYS[5]) > 0 and not redis.call('ZSCORE', KEYS[2], cid) then
    local f = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
    redis.call('ZADD', KEYS[1], 'NX', f[2] or 0, cid)
  end
elseif op == 'cancel' then
  redis.call('SADD', KEYS[4], cid)
  redis.call('SREM', KEYS[3], cid)
  redis.call('ZREM', KEYS[1], cid)
  redis.call('ZREM', KEYS[2], cid)
  local ids = redis.call('LPOP', KEYS[5], 10000)
  if ids then
    for _, id in ipairs(ids) do
      redis.call('HDEL', KEYS[6], id)
    end
  end
end
return redis.call('LLEN', KEYS[5])
