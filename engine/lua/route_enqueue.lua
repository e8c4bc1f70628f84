-- Enqueues messages from the outbox into one lane of a route (DESIGN.md 3.1). Idempotent:
-- a message already waiting, leased or delayed (its payload is in the hash), already sent
-- (a dedupe mark), or already settled otherwise on this route (a done mark: failed,
-- unreachable, expired, cancelled) is skipped, so the outbox can be replayed into Redis at any
-- time (reconciliation after Redis lost its data, or a planner that crashed mid-page), even
-- while the outcomes of the messages it replays wait in the results stream.
--
-- KEYS[1] loa:{r}:msg   KEYS[2] loa:{r}:sent   KEYS[3] the lane: loa:{r}:pri or loa:{r}:lane:<cid>
-- KEYS[4] loa:{r}:lanes   KEYS[5] loa:{r}:paused   KEYS[6] loa:{r}:asleep   KEYS[7] loa:{r}:done
-- ARGV[1] campaign id of a bulk lane, '' for the priority lane
-- ARGV[2..] id, payload pairs
-- Returns {added, skipped}.
local added, skipped = 0, 0
for i = 2, #ARGV, 2 do
  local id = ARGV[i]
  if redis.call('ZSCORE', KEYS[2], id) or redis.call('ZSCORE', KEYS[7], id)
      or redis.call('HSETNX', KEYS[1], id, ARGV[i + 1]) == 0 then
    skipped = skipped + 1
  else
    redis.call('RPUSH', KEYS[3], id)
    added = added + 1
  end
end
local cid = ARGV[1]
if cid ~= '' and added > 0 and redis.call('SISMEMBER', KEYS[5], cid) == 0
    and not redis.call('ZSCORE', KEYS[6], cid) and not redis.call('ZSCORE', KEYS[4], cid) then
  -- A new lane joins at the floor, so it neither starves nor is starved.
  local f = redis.call('ZRANGE', KEYS[4], 0, 0, 'WITHSCORES')
  redis.call('ZADD', KEYS[4], f[2] or 0, cid)
end
return {added, skipped}
