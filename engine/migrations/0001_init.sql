-- 0001: the audit log. Every change of state that an operator or the daemon makes is recorded
-- with who made it and when (campaign lifecycle, imports, tokens, daemon start and stop).
CREATE TABLE audit_log (
  id      INTEGER PRIMARY KEY,
  at      TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  actor   TEXT    NOT NULL,
  action  TEXT    NOT NULL,
  subject TEXT    NOT NULL DEFAULT '',
  detail  TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_subject ON audit_log(subject, at);
