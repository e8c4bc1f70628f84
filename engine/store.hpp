// The SQLite store, which is the record (DESIGN.md 3.1): opening connections with the right
// pragmas, and versioned schema migrations.
//
// Contract:
//  - open_store() opens (creating when asked) a database in WAL mode with synchronous=NORMAL,
//    foreign keys on, a busy timeout, and (read-write) a page cache of kWriteCacheKiB. Read
//    connections are opened read-only. ConnectionMutex::kOneThreadAtATime drops SQLite's
//    per-connection mutex (see below).
//  - Migrations are the files engine/migrations/NNNN_name.sql, embedded at build time. Each is
//    applied once, in its own IMMEDIATE transaction, and recorded in schema_migrations.
//    migrate() is idempotent: a second run applies nothing. A database whose version is newer
//    than this binary knows is refused rather than touched.
//  - Errors are StoreError (start-up and CLI paths only).
//
// Thread-safety: a SQLite::Database is used by one thread at a time; open one per user.
#pragma once

#include <SQLiteCpp/Database.h>

#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace loa::engine {

class StoreError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class StoreMode { kReadWrite, kReadOnly };

// Whether SQLite serialises every call on the connection with the connection's own mutex.
// kSerialized (the default) is always safe. kOneThreadAtATime opens it with
// SQLITE_OPEN_NOMUTEX: no lock and unlock on every bind, step, column and reset (~5% of the
// planner's writer thread), for a connection the caller guarantees is never used by two
// threads at once (it may be handed from one thread to another with a happens-before, such
// as starting or joining a thread). Using such a connection from two threads at once is
// undefined behaviour, not an error.
enum class ConnectionMutex { kSerialized, kOneThreadAtATime };

// Page cache of a read-write connection, at most (SQLite allocates it as pages are used).
inline constexpr int kWriteCacheKiB = 16 * 1024;

SQLite::Database open_store(const std::filesystem::path& path, StoreMode mode,
                            int busy_timeout_ms = 5000,
                            ConnectionMutex mutex = ConnectionMutex::kSerialized);

// For a connection that writes in bulk (the planner, the store writer): checkpoint the WAL
// every ~200 MB rather than every 4 MB (SQLite's default of 1000 pages), so pages are copied
// back far less often (measured: expansion 46k -> 78k messages/s for 1M; applying results
// 99k -> 163k events/s), truncate it to 64 MB afterwards, and give the connection a 64 MiB
// cache so that the outbox's indexes stay in memory.
void tune_for_bulk_writes(SQLite::Database& db);

struct Migration {
  int version;
  std::string name;
  std::string_view sql;
};

// The embedded migrations, in version order. Throws StoreError on a badly named file or a
// duplicated version (a build mistake, caught by the tests).
std::vector<Migration> migrations();

// The highest applied version (0 for an empty database).
int schema_version(SQLite::Database& db);

struct MigrationReport {
  int from_version = 0;
  int to_version = 0;
  std::vector<std::string> applied;  // "0001_init"
};
MigrationReport migrate(SQLite::Database& db);

}  // namespace loa::engine
