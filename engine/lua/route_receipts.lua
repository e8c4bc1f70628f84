-- Publishes delivery receipts (and replies) to a route's results stream, and marks the
-- messages whose receipts are final (delivered, or given up by the gateway) as sent, in one
-- step. The mark is the dedupe mark the pop script honours (route_pop.lua drops an id that
-- has one), so a receipt cancels a pending retry of its message atomically with that retry's
-- pop: the retry is either popped before the mark (already in flight) or never.
--
-- KEYS[1] loa:{r}:sent     ZSET   dedupe marks: message id -> marked (µs, Redis TIME)
-- KEYS[2] loa:{r}:results  STREAM outcomes, for the store writer
-- ARGV[1] events for the results stream (campaigns/outbox_event.hpp encoding)
-- ARGV[2..] ids of the messages whose receipts are final
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local marks = {}
for i = 2, #ARGV do
  marks[#marks + 1] = now
  marks[#marks + 1] = ARGV[i]
end
-- Redis commands take at most this many arguments from one Lua call (Lua's C stack).
for i = 1, #marks, 2000 do
  redis.call('ZADD', KEYS[1], unpack(marks, i, math.min(#marks, i + 1999)))
end
redis.call('XADD', KEYS[2], '*', 'e', ARGV[1])
return #marks / 2
