-- 0004: campaigns, their rounds, and the outbox (DESIGN.md 3.1: the outbox is the record; a
-- message is a row here before it is anything in Redis).
CREATE TABLE campaigns (
  id                    INTEGER PRIMARY KEY,
  name                  TEXT NOT NULL UNIQUE,
  topic                 TEXT NOT NULL DEFAULT '',
  template_key          TEXT NOT NULL,
  audience              TEXT NOT NULL DEFAULT '',
  segment               TEXT NOT NULL DEFAULT '',
  channels              TEXT NOT NULL,                 -- "zalo_zns,sms": in order of preference
  priority              TEXT NOT NULL DEFAULT 'bulk' CHECK (priority IN ('bulk', 'transactional')),
  start_at              TEXT NOT NULL,                 -- ISO 8601 with offset
  end_at                TEXT NOT NULL,
  recurrence            TEXT NOT NULL DEFAULT 'none',
  quiet_hours           TEXT NOT NULL DEFAULT '21:00-07:00',
  frequency_cap         INTEGER NOT NULL DEFAULT 0,
  frequency_window_days INTEGER NOT NULL DEFAULT 7,
  budget_vnd            INTEGER NOT NULL DEFAULT 0,
  variables             TEXT NOT NULL DEFAULT '',      -- key=value lines, for {{campaign.*}}
  state                 TEXT NOT NULL DEFAULT 'draft',
  created_at            TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  updated_at            TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

-- One row per occurrence of a campaign's schedule.
CREATE TABLE rounds (
  id          INTEGER PRIMARY KEY,
  campaign_id INTEGER NOT NULL REFERENCES campaigns(id),
  number      INTEGER NOT NULL,
  due_at      TEXT NOT NULL,
  state       TEXT NOT NULL DEFAULT 'pending',  -- pending|expanding|expanded|skipped|cancelled
  cursor      INTEGER NOT NULL DEFAULT 0,       -- last household id expanded (resume point)
  planned     INTEGER NOT NULL DEFAULT 0,
  skipped     INTEGER NOT NULL DEFAULT 0,       -- households with no usable channel, shared phones
  started_at  TEXT,
  heartbeat_at TEXT,                           -- the expanding planner's last page commit
  expanded_at TEXT,
  UNIQUE (campaign_id, number)
);
CREATE INDEX rounds_due ON rounds(state, due_at);

-- One message per household and per phone per round (the UNIQUE keys enforce it).
CREATE TABLE outbox (
  id           INTEGER PRIMARY KEY,
  round_id     INTEGER NOT NULL REFERENCES rounds(id),
  campaign_id  INTEGER NOT NULL REFERENCES campaigns(id),
  household_id INTEGER NOT NULL REFERENCES households(id),
  phone_e164   TEXT,                      -- sms and zalo_zns recipients; NULL for zalo_oa only
  zalo_user_id TEXT,
  channel      TEXT NOT NULL,             -- the channel tried first
  fallback     TEXT NOT NULL DEFAULT '',  -- the channels after it, "sms"
  route        TEXT NOT NULL,
  language     TEXT NOT NULL,
  body         TEXT NOT NULL,             -- the text, or the ZNS template id and JSON data
  units        INTEGER NOT NULL,          -- SMS segments or 1 Zalo message
  cost_vnd     INTEGER NOT NULL,
  priority     TEXT NOT NULL DEFAULT 'bulk',
  state        TEXT NOT NULL DEFAULT 'planned',  -- planned|queued|sent|delivered|failed|expired|cancelled
  attempts     INTEGER NOT NULL DEFAULT 0,
  last_error   TEXT NOT NULL DEFAULT '',
  expires_at   TEXT NOT NULL,
  created_at   TEXT NOT NULL,
  updated_at   TEXT NOT NULL,
  UNIQUE (round_id, household_id),
  UNIQUE (round_id, phone_e164)
);
CREATE INDEX outbox_campaign_state ON outbox(campaign_id, state);
CREATE INDEX outbox_household ON outbox(household_id, created_at);
