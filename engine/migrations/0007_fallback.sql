-- 0007: channel fallback (issue [6/10]). When a household's first channel reports it
-- unreachable (no Zalo account, outside the OA window), its message moves to the next channel
-- of `fallback` in the same row, so the round's one-message-per-household key still holds
-- and a household never gets both. `fallback_from` keeps the channels given up, in order, for
-- the statistics ("zalo_zns"); a planned row with an empty body waits for the enqueuer to
-- render it for its new channel.
ALTER TABLE outbox ADD COLUMN fallback_from TEXT NOT NULL DEFAULT '';
