// The store's one writer (DESIGN.md section 4): it owns the write connection and applies
// writes in batched transactions, committing every `batch_rows` writes or `batch_ms`
// milliseconds, whichever comes first. It is fed by a bounded queue.
//
// Contract:
//  - A Write runs inside the writer's transaction and must not begin, commit or roll back.
//  - If a batch fails, it is rolled back and each of its writes is retried alone, so one bad
//    write cannot take its neighbours down; the failing write's `done` gets the error.
//  - `done`, when given, runs on the writer thread after the commit (ok) or failure; keep it
//    short and never block there.
//  - Writes run on the writer's own thread, which ends before the connection closes, so a
//    write may keep thread_local state tied to the connection (prepared statements).
//  - submit() blocks while the queue is full (push-back for producers on their own threads);
//    try_submit() returns false instead (for async code that must not block).
//  - flush() returns once everything submitted before it is committed.
//  - stop() drains the queue, commits, and closes the connection. The destructor stops.
//    A write submitted once stop() has begun is refused (try_submit false, or `done` gets an
//    error); one accepted before is committed: never silently left in the queue.
//
// Thread-safety: start and stop from the owner's thread; submit, try_submit, flush and the
// counters are safe from any thread.
#pragma once

#include <SQLiteCpp/Database.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "engine/config.hpp"

namespace loa::engine {

struct StoreWrite {
  std::function<void(SQLite::Database&)> apply;
  std::function<void(bool ok, const std::string& error)> done;  // optional
};

class StoreWriter {
 public:
  StoreWriter(std::filesystem::path path, StoreConfig config);
  ~StoreWriter();
  StoreWriter(const StoreWriter&) = delete;
  StoreWriter& operator=(const StoreWriter&) = delete;

  void start();  // opens the write connection (throws StoreError) and starts the thread
  void stop();

  void submit(StoreWrite write);
  bool try_submit(StoreWrite write);
  void flush();

  std::size_t queued() const;
  std::uint64_t committed() const { return committed_.load(); }
  std::uint64_t failed() const { return failed_.load(); }
  std::uint64_t batches() const { return batches_.load(); }
  // The disk's error (SQLITE_FULL, SQLITE_IOERR, read-only...) when the last commit failed
  // with one, empty once a commit succeeds: what /readyz and /healthz report (a full disk
  // used to leave /readyz at "store":"ok").
  std::string disk_error() const;

 private:
  void run();
  void apply_batch(std::deque<StoreWrite>& batch);
  void note_disk_error(const std::exception& e);

  std::filesystem::path path_;
  StoreConfig config_;
  std::unique_ptr<SQLite::Database> db_;  // touched only by the writer thread after start()
  std::thread thread_;

  mutable std::mutex mutex_;
  std::condition_variable not_empty_;
  std::condition_variable not_full_;
  std::condition_variable drained_;
  std::deque<StoreWrite> queue_;  // guarded by mutex_
  std::uint64_t submitted_ = 0;   // guarded by mutex_
  std::uint64_t finished_ = 0;    // guarded by mutex_
  bool stopping_ = false;         // guarded by mutex_
  bool running_ = false;          // guarded by mutex_: accepting writes; the writer clears it
                                  // as it ends

  std::atomic<std::uint64_t> committed_{0};
  std::atomic<std::uint64_t> failed_{0};
  std::atomic<std::uint64_t> batches_{0};
  std::string disk_error_;  // guarded by mutex_
};

}  // namespace loa::engine
