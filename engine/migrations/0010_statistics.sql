-- 0010: statistics summary (issue [8/10]). Reports and the dashboard read these few rows, not
-- the outbox, so a query over any date range stays fast at millions of messages.
--
-- One row per campaign x day x channel x route x carrier x area (commune or ward, and the
-- legacy district) x language x category. `day` is the local date (Asia/Ho_Chi_Minh) on which
-- the message was planned: every counter of a message lands in the row of its planning day
-- (a cohort), so the funnel of any range is consistent (delivered never exceeds planned).
-- channel and route are the message's at the time of each event: after a fallback the later
-- events count under the new channel.
--
-- Counters (campaigns/stats_summary.hpp keeps them; nothing here is a trigger):
--   planned    messages planned                    queued   handed to a route queue (first channel)
--   sent       accepted by a gateway (ever)        cost_vnd price of the messages sent
--   delivered, failed, expired, cancelled: messages in that end state now (a late delivery
--              receipt moves a failed message to delivered)
--   fallback   moves to a fallback channel          replied  replies matched to a message
--   opted_out  messages stopped because the household opted out (within cancelled/failed)
--   ttd_0..ttd_15 time from sent to delivered, a histogram with upper bounds (seconds)
--              1 2 5 10 20 30 60 120 300 600 1800 3600 7200 21600 86400 and +inf
CREATE TABLE stats_summary (
  id          INTEGER PRIMARY KEY,
  campaign_id INTEGER NOT NULL,
  day         TEXT NOT NULL,   -- YYYY-MM-DD, local
  channel     TEXT NOT NULL,
  route       TEXT NOT NULL,
  carrier     TEXT NOT NULL DEFAULT '',
  commune     TEXT NOT NULL DEFAULT '',
  district    TEXT NOT NULL DEFAULT '',
  language    TEXT NOT NULL DEFAULT '',
  category    TEXT NOT NULL DEFAULT '',
  planned     INTEGER NOT NULL DEFAULT 0,
  queued      INTEGER NOT NULL DEFAULT 0,
  sent        INTEGER NOT NULL DEFAULT 0,
  delivered   INTEGER NOT NULL DEFAULT 0,
  failed      INTEGER NOT NULL DEFAULT 0,
  expired     INTEGER NOT NULL DEFAULT 0,
  cancelled   INTEGER NOT NULL DEFAULT 0,
  fallback    INTEGER NOT NULL DEFAULT 0,
  replied     INTEGER NOT NULL DEFAULT 0,
  opted_out   INTEGER NOT NULL DEFAULT 0,
  cost_vnd    INTEGER NOT NULL DEFAULT 0,
  ttd_0 INTEGER NOT NULL DEFAULT 0, ttd_1 INTEGER NOT NULL DEFAULT 0,
  ttd_2 INTEGER NOT NULL DEFAULT 0, ttd_3 INTEGER NOT NULL DEFAULT 0,
  ttd_4 INTEGER NOT NULL DEFAULT 0, ttd_5 INTEGER NOT NULL DEFAULT 0,
  ttd_6 INTEGER NOT NULL DEFAULT 0, ttd_7 INTEGER NOT NULL DEFAULT 0,
  ttd_8 INTEGER NOT NULL DEFAULT 0, ttd_9 INTEGER NOT NULL DEFAULT 0,
  ttd_10 INTEGER NOT NULL DEFAULT 0, ttd_11 INTEGER NOT NULL DEFAULT 0,
  ttd_12 INTEGER NOT NULL DEFAULT 0, ttd_13 INTEGER NOT NULL DEFAULT 0,
  ttd_14 INTEGER NOT NULL DEFAULT 0, ttd_15 INTEGER NOT NULL DEFAULT 0,
  UNIQUE (campaign_id, day, channel, route, carrier, commune, district, language, category)
);
CREATE INDEX stats_summary_day ON stats_summary(day, campaign_id);

-- Failed messages by reason (the first 80 characters of outbox.last_error), per summary row.
CREATE TABLE stats_failures (
  summary_id INTEGER NOT NULL REFERENCES stats_summary(id),
  reason     TEXT NOT NULL,
  messages   INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (summary_id, reason)
) WITHOUT ROWID;

-- Backfill from the outbox as it stands. `queued` and `sent` are inferred from the rows
-- (attempts made, a gateway id or sent time); `fallback` counts the channels given up.
INSERT INTO stats_summary(campaign_id, day, channel, route, carrier, commune, district, language,
  category, planned, queued, sent, delivered, failed, expired, cancelled, fallback, opted_out,
  cost_vnd, ttd_0, ttd_1, ttd_2, ttd_3, ttd_4, ttd_5, ttd_6, ttd_7, ttd_8, ttd_9, ttd_10, ttd_11,
  ttd_12, ttd_13, ttd_14, ttd_15)
SELECT campaign_id, day, channel, route, carrier, commune, district, language, category,
  COUNT(*),
  SUM(state IN ('queued', 'sent', 'delivered') OR attempts > 0 OR was_sent),
  SUM(was_sent), SUM(state = 'delivered'), SUM(state = 'failed'), SUM(state = 'expired'),
  SUM(state = 'cancelled'),
  SUM(CASE WHEN fallback_from = '' THEN 0
      ELSE length(fallback_from) - length(replace(fallback_from, ',', '')) + 1 END),
  SUM(state IN ('failed', 'cancelled') AND last_error LIKE 'opted out%'),
  SUM(CASE WHEN was_sent THEN cost_vnd ELSE 0 END),
  SUM(ttd IS NOT NULL AND ttd <= 1), SUM(ttd > 1 AND ttd <= 2), SUM(ttd > 2 AND ttd <= 5),
  SUM(ttd > 5 AND ttd <= 10), SUM(ttd > 10 AND ttd <= 20), SUM(ttd > 20 AND ttd <= 30),
  SUM(ttd > 30 AND ttd <= 60), SUM(ttd > 60 AND ttd <= 120), SUM(ttd > 120 AND ttd <= 300),
  SUM(ttd > 300 AND ttd <= 600), SUM(ttd > 600 AND ttd <= 1800),
  SUM(ttd > 1800 AND ttd <= 3600), SUM(ttd > 3600 AND ttd <= 7200),
  SUM(ttd > 7200 AND ttd <= 21600), SUM(ttd > 21600 AND ttd <= 86400), SUM(ttd > 86400)
FROM (
  SELECT o.campaign_id, substr(o.created_at, 1, 10) AS day, o.channel, o.route,
    COALESCE(h.carrier, '') AS carrier, COALESCE(h.commune, '') AS commune,
    COALESCE(h.district, '') AS district, o.language, COALESCE(h.category, '') AS category,
    o.state, o.attempts, o.fallback_from, o.last_error, o.cost_vnd,
    (o.sent_at IS NOT NULL OR o.state IN ('sent', 'delivered') OR o.provider_id <> '') AS was_sent,
    CASE WHEN o.state = 'delivered' AND o.sent_at IS NOT NULL AND o.delivered_at IS NOT NULL
      THEN MAX(0, (julianday(o.delivered_at) - julianday(o.sent_at)) * 86400.0) END AS ttd
  FROM outbox o LEFT JOIN households h ON h.id = o.household_id
)
GROUP BY campaign_id, day, channel, route, carrier, commune, district, language, category;

INSERT INTO stats_failures(summary_id, reason, messages)
SELECT s.id, f.reason, f.n FROM (
  SELECT o.campaign_id, substr(o.created_at, 1, 10) AS day, o.channel, o.route,
    COALESCE(h.carrier, '') AS carrier, COALESCE(h.commune, '') AS commune,
    COALESCE(h.district, '') AS district, o.language, COALESCE(h.category, '') AS category,
    substr(o.last_error, 1, 80) AS reason, COUNT(*) AS n
  FROM outbox o LEFT JOIN households h ON h.id = o.household_id
  WHERE o.state = 'failed'
  GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10
) f JOIN stats_summary s ON s.campaign_id = f.campaign_id AND s.day = f.day
  AND s.channel = f.channel AND s.route = f.route AND s.carrier = f.carrier
  AND s.commune = f.commune AND s.district = f.district AND s.language = f.language
  AND s.category = f.category;

-- Replies count under the row of the household's latest message in the campaign.
INSERT INTO stats_summary(campaign_id, day, channel, route, carrier, commune, district, language,
  category, replied)
SELECT o.campaign_id, substr(o.created_at, 1, 10), o.channel, o.route, COALESCE(h.carrier, ''),
  COALESCE(h.commune, ''), COALESCE(h.district, ''), o.language, COALESCE(h.category, ''),
  COUNT(*)
FROM replies r
JOIN outbox o ON o.id = (SELECT id FROM outbox WHERE household_id = r.household_id
                         AND campaign_id = r.campaign_id ORDER BY created_at DESC, id DESC LIMIT 1)
LEFT JOIN households h ON h.id = o.household_id
WHERE r.campaign_id IS NOT NULL AND r.household_id IS NOT NULL
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9
ON CONFLICT (campaign_id, day, channel, route, carrier, commune, district, language, category)
DO UPDATE SET replied = replied + excluded.replied;
