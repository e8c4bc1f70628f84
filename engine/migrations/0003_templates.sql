-- 0003: the template library (`loa templates load FILE`, templates/template_library.hpp).
--
-- A template is a key with variants by (language, channel). Texts are stored as written in the
-- library file (after NFC), and compiled again when loaded, so the store never holds a compiled
-- form that a newer binary might read differently. A variant with an empty body (sms, zalo_oa)
-- or an empty zns_template_id (zalo_zns) awaits translation: households of that language get
-- the fallback language.
CREATE TABLE templates (
  key         TEXT PRIMARY KEY,
  topic       TEXT NOT NULL DEFAULT '',
  description TEXT NOT NULL DEFAULT '',
  source_file TEXT NOT NULL DEFAULT '',    -- the file the last change came from
  revision    INTEGER NOT NULL DEFAULT 1,  -- +1 whenever a load changes the template
  created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  updated_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

CREATE TABLE template_variants (
  template_key    TEXT NOT NULL REFERENCES templates(key) ON DELETE CASCADE,
  language        TEXT NOT NULL,
  channel         TEXT NOT NULL CHECK (channel IN ('sms', 'zalo_zns', 'zalo_oa')),
  body            TEXT NOT NULL DEFAULT '',  -- sms, zalo_oa: Mustache text
  zns_template_id TEXT NOT NULL DEFAULT '',  -- zalo_zns: the approved template
  zns_params      TEXT NOT NULL DEFAULT '[]',  -- zalo_zns: JSON [{"name","value","max_chars"}]
  PRIMARY KEY (template_key, language, channel)
) WITHOUT ROWID;
