// The audit log (engine/migrations/0001_init.sql): who changed what, and when. Every state
// change of a campaign, an import, a template load and the daemon's start and stop is a row.
//
// Contract: record_audit writes in the caller's transaction, so the change and its audit row
// commit or roll back together. `at` is set by SQLite (UTC, milliseconds).
//
// Thread-safety: one thread per Database.
#pragma once

#include <SQLiteCpp/Database.h>

#include <string>

namespace loa::campaigns {

void record_audit(SQLite::Database& db, const std::string& actor, const std::string& action,
                  const std::string& subject, const std::string& detail);

}  // namespace loa::campaigns
