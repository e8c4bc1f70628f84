-- 0011: outcomes that no receipt decides.
--
-- outbox.state gains `unknown`: sent, and no delivery receipt within the route's
-- routes.<route>.receipt_timeout_hours (campaigns/receipt_timeout.hpp). It is final for the
-- funnel and the reports, but a receipt that comes later still moves the message to
-- delivered or failed. stats_summary counts it apart (`unknown`, messages in that state now).
ALTER TABLE stats_summary ADD COLUMN unknown INTEGER NOT NULL DEFAULT 0;

-- The receipt timeout reads the sent messages of one route, oldest first, and nothing else:
-- a partial index stays as small as the messages awaiting a receipt.
CREATE INDEX outbox_awaiting_receipt ON outbox(route, sent_at) WHERE state = 'sent';

-- A receipt for an id the outbox does not know is kept once, however often the gateway or a
-- redelivered stream entry replays it.
DELETE FROM orphan_receipts WHERE id NOT IN
  (SELECT MIN(id) FROM orphan_receipts GROUP BY message_ref, event, provider_id);
CREATE UNIQUE INDEX orphan_receipts_once ON orphan_receipts(message_ref, event, provider_id);
