-- 0009: bearer tokens of the REST API (engine/api_tokens.hpp). A token is shown once, when it
-- is made; only its SHA-256 is kept. `prefix` is the token's first characters, which are not
-- secret: it finds the row, and the hash is then compared in constant time.
CREATE TABLE api_tokens (
  id          INTEGER PRIMARY KEY,
  name        TEXT NOT NULL,
  role        TEXT NOT NULL CHECK (role IN ('admin', 'operator', 'viewer')),
  prefix      TEXT NOT NULL,
  token_hash  TEXT NOT NULL UNIQUE,  -- lower-case hex SHA-256 of the whole token
  created_by  TEXT NOT NULL DEFAULT '',
  created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  revoked_at  TEXT
);
CREATE INDEX api_tokens_prefix ON api_tokens(prefix);
