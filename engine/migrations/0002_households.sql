-- 0002: households, programme categories, saved audience segments and import runs.
--
-- Categories are data, not code: a department can add its own (e.g. a provincial category)
-- without a release. `aliases` lists the spellings seen in commune spreadsheets, lower-cased
-- and NFC-normalised, separated by '|'.
CREATE TABLE categories (
  code     TEXT PRIMARY KEY,
  label_vi TEXT NOT NULL,
  label_en TEXT NOT NULL,
  aliases  TEXT NOT NULL DEFAULT ''
);
INSERT INTO categories(code, label_vi, label_en, aliases) VALUES
  ('poor',      'Hộ nghèo',           'Poor household',
   'hộ nghèo|nghèo|ho ngheo|ngheo|poor|hn'),
  ('near_poor', 'Hộ cận nghèo',       'Near-poor household',
   'hộ cận nghèo|cận nghèo|ho can ngheo|can ngheo|near_poor|near-poor|near poor|hcn'),
  ('escaped',   'Hộ mới thoát nghèo', 'Newly escaped poverty',
   'hộ mới thoát nghèo|mới thoát nghèo|thoát nghèo|ho moi thoat ngheo|thoat ngheo|escaped'),
  ('officer',   'Cán bộ xã',          'Commune officer',
   'cán bộ|cán bộ xã|can bo|officer');

-- One row per household. The area is a path province > commune/ward > village; since the 2025
-- reorganisation there is no district level, so `district` is only the legacy attribute that
-- older lists carry. `phone_e164` is NULL when the list has no usable mobile number.
CREATE TABLE households (
  id              INTEGER PRIMARY KEY,
  household_code  TEXT UNIQUE,
  name            TEXT NOT NULL DEFAULT '',
  phone_e164      TEXT,
  phone_raw       TEXT NOT NULL DEFAULT '',
  carrier         TEXT,
  language        TEXT NOT NULL DEFAULT 'vi',
  language_source TEXT NOT NULL DEFAULT 'list',   -- list | ethnicity | default
  ethnicity       TEXT,
  category        TEXT REFERENCES categories(code),
  province        TEXT,
  commune         TEXT,
  village         TEXT,
  district        TEXT,
  has_zalo        INTEGER NOT NULL DEFAULT 0,
  zalo_user_id    TEXT,
  consent_sms     INTEGER NOT NULL DEFAULT 1,
  consent_zalo    INTEGER NOT NULL DEFAULT 1,
  opt_out_sms     INTEGER NOT NULL DEFAULT 0,
  opt_out_zalo    INTEGER NOT NULL DEFAULT 0,
  shared_phone    INTEGER NOT NULL DEFAULT 0,     -- another household lists the same phone
  row_hash        TEXT NOT NULL DEFAULT '',     -- of the imported values: unchanged rows stay put
  attributes      TEXT NOT NULL DEFAULT '{}',     -- JSON object, filter as attr.<name>
  source          TEXT NOT NULL DEFAULT '',
  created_at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  updated_at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX households_phone ON households(phone_e164);
CREATE INDEX households_area ON households(province, commune, village);
CREATE INDEX households_category_language ON households(category, language);

-- Saved audiences: a name for a filter expression (campaigns/audience_filter.hpp).
CREATE TABLE segments (
  name       TEXT PRIMARY KEY,
  expression TEXT NOT NULL,
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

-- One row per `loa contacts import` run that wrote to the store.
CREATE TABLE imports (
  id          INTEGER PRIMARY KEY,
  file        TEXT NOT NULL,
  started_at  TEXT NOT NULL,
  finished_at TEXT,
  rows        INTEGER NOT NULL DEFAULT 0,
  inserted    INTEGER NOT NULL DEFAULT 0,
  updated     INTEGER NOT NULL DEFAULT 0,
  unchanged   INTEGER NOT NULL DEFAULT 0,
  rejected    INTEGER NOT NULL DEFAULT 0,
  report      TEXT NOT NULL DEFAULT ''
);
