-- 0005: what became of each message, and what households wrote back. Filled by the store side
-- of the results stream (engine/result_consumer.hpp, campaigns/outbox_event.hpp).
--
-- Times here are UTC with milliseconds ("2026-12-01T01:02:03.456Z"), as the gateway reported
-- them, so delivery latency can be measured.
ALTER TABLE outbox ADD COLUMN provider_id TEXT NOT NULL DEFAULT '';  -- the gateway's message id
ALTER TABLE outbox ADD COLUMN sent_at TEXT;                          -- the gateway accepted it
ALTER TABLE outbox ADD COLUMN delivered_at TEXT;                     -- the handset has it

-- Messages from households (SMS MO, Zalo OA). household_id and campaign_id are the best match
-- when the reply arrived (by message, phone, then Zalo user; the campaign of that household's
-- latest message) and NULL when nothing matched. provider_id is the gateway's event id: a
-- webhook delivered twice is stored once (NULL when the gateway gives none).
CREATE TABLE replies (
  id           INTEGER PRIMARY KEY,
  route        TEXT NOT NULL,
  household_id INTEGER REFERENCES households(id),
  campaign_id  INTEGER REFERENCES campaigns(id),
  phone        TEXT NOT NULL DEFAULT '',
  zalo_user    TEXT NOT NULL DEFAULT '',
  text         TEXT NOT NULL,
  provider_id  TEXT UNIQUE,
  received_at  TEXT NOT NULL
);
CREATE INDEX replies_received ON replies(received_at);            -- the inbox, newest first
CREATE INDEX replies_campaign ON replies(campaign_id, received_at);  -- a campaign's replies

-- Replies from Zalo carry the user id, not a phone.
CREATE INDEX households_zalo_user ON households(zalo_user_id) WHERE zalo_user_id IS NOT NULL;
