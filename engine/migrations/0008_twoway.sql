-- 0008: two-way (issue [7/10]): what happened to each message and when, household replies
-- through their rules into the operator inbox, and the answers that go back.

-- Every receipt and outcome of a message, once per kind (a webhook delivered twice is
-- recorded once), with the time the gateway gave: time-to-delivery is delivered.at - sent.at.
-- A `failed` receipt after `delivered` is kept here although it does not change the outbox.
CREATE TABLE delivery_history (
  id          INTEGER PRIMARY KEY,
  message_id  INTEGER NOT NULL REFERENCES outbox(id),
  event       TEXT NOT NULL,      -- sent|delivered|undelivered|failed|expired|cancelled
  provider_id TEXT NOT NULL DEFAULT '',
  reason      TEXT NOT NULL DEFAULT '',
  at          TEXT NOT NULL,      -- when it happened (the gateway's time when it gave one)
  recorded_at TEXT NOT NULL,
  UNIQUE (message_id, event)
);

-- Receipts for message ids the outbox does not know (another system's, or forged with a valid
-- token): accepted, logged and counted here, never applied.
CREATE TABLE orphan_receipts (
  id          INTEGER PRIMARY KEY,
  message_ref TEXT NOT NULL,
  event       TEXT NOT NULL,
  provider_id TEXT NOT NULL DEFAULT '',
  at          TEXT NOT NULL
);

-- Replies: `status` new (stored, rules not run yet) | handled (a keyword or rule answered it)
-- | open | assigned | answered | closed (the operator inbox). `rule` says which rule took it:
-- opt_out, opt_in, help, rule:<name>, or inbox.
ALTER TABLE replies ADD COLUMN status TEXT NOT NULL DEFAULT 'new';
ALTER TABLE replies ADD COLUMN rule TEXT NOT NULL DEFAULT '';
ALTER TABLE replies ADD COLUMN assigned_to TEXT NOT NULL DEFAULT '';
ALTER TABLE replies ADD COLUMN answer_message_id INTEGER REFERENCES outbox(id);
ALTER TABLE replies ADD COLUMN updated_at TEXT;
-- Replies stored before this migration have been seen by nobody: they wait in the inbox.
UPDATE replies SET status = 'open', rule = 'inbox';
CREATE INDEX replies_status ON replies(status, received_at);

-- A sender that matches no household becomes one, marked unknown (0002's `source`), so the
-- operator sees who wrote and can answer; it has no category, so no audience picks it up by
-- category.
ALTER TABLE households ADD COLUMN unknown INTEGER NOT NULL DEFAULT 0;

-- Answers to configurable rules (poll answers 1/2/3), one per household, rule and campaign:
-- the last answer counts.
CREATE TABLE reply_answers (
  id           INTEGER PRIMARY KEY,
  reply_id     INTEGER NOT NULL REFERENCES replies(id),
  campaign_id  INTEGER REFERENCES campaigns(id),
  household_id INTEGER NOT NULL REFERENCES households(id),
  rule         TEXT NOT NULL,
  answer       TEXT NOT NULL,
  at           TEXT NOT NULL,
  UNIQUE (campaign_id, household_id, rule)
);

-- The campaign that carries messages to households who wrote (opt-out confirmations, help
-- auto-replies, operators' answers) is created on first use, named 'inbox'
-- (campaigns/inbox.hpp), so that this migration takes no campaign id.
