#include "engine/store_writer.hpp"

#include <SQLiteCpp/Exception.h>
#include <SQLiteCpp/Transaction.h>
#include <sqlite3.h>
#include <spdlog/spdlog.h>

#include "campaigns/fault_point.hpp"
#include "engine/store.hpp"

namespace loa::engine {

StoreWriter::StoreWriter(std::filesystem::path path, StoreConfig config)
    : path_(std::move(path)), config_(config) {}

StoreWriter::~StoreWriter() {
  try {
    stop();
  } catch (...) {
    // Never throw from a destructor.
  }
}

void StoreWriter::start() {
  if (thread_.joinable()) return;
  db_ = std::make_unique<SQLite::Database>(
      open_store(path_, StoreMode::kReadWrite, config_.busy_timeout_ms));
  tune_for_bulk_writes(*db_);  // outcomes of a million-message campaign arrive in bulk
  {
    std::lock_guard lock(mutex_);
    stopping_ = false;
    running_ = true;
  }
  thread_ = std::thread([this] { run(); });
}

void StoreWriter::stop() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  not_empty_.notify_all();
  not_full_.notify_all();
  thread_.join();  // the writer cleared running_ when it took its last write (see run())
  db_.reset();
  drained_.notify_all();
}

void StoreWriter::submit(StoreWrite write) {
  std::unique_lock lock(mutex_);
  not_full_.wait(lock, [&] {
    return stopping_ || queue_.size() < static_cast<std::size_t>(config_.queue_capacity);
  });
  // Once stop() has begun, new writes are refused: stop() drains what was accepted before it,
  // and producers that keep submitting must not be able to keep the writer from ending.
  if (!running_ || stopping_) {
    lock.unlock();
    if (write.done) write.done(false, "the store writer is stopped");
    return;
  }
  queue_.push_back(std::move(write));
  ++submitted_;
  lock.unlock();
  not_empty_.notify_one();
}

bool StoreWriter::try_submit(StoreWrite write) {
  {
    std::lock_guard lock(mutex_);
    if (!running_ || stopping_ ||
        queue_.size() >= static_cast<std::size_t>(config_.queue_capacity))
      return false;
    queue_.push_back(std::move(write));
    ++submitted_;
  }
  not_empty_.notify_one();
  return true;
}

void StoreWriter::flush() {
  std::unique_lock lock(mutex_);
  const std::uint64_t target = submitted_;
  drained_.wait(lock, [&] { return finished_ >= target || !running_; });
}

std::size_t StoreWriter::queued() const {
  std::lock_guard lock(mutex_);
  return queue_.size();
}

void StoreWriter::run() {
  const auto window = std::chrono::milliseconds(config_.batch_ms);
  const auto max_rows = static_cast<std::size_t>(config_.batch_rows);
  std::deque<StoreWrite> batch;
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      not_empty_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty() && stopping_) {
        // Decided under the same lock as submit()'s check: a write is either in the queue
        // now (and was taken) or is refused with an error, never left behind after the end.
        running_ = false;
        break;
      }
      // Gather up to max_rows, waiting at most `window` for the batch to fill.
      const auto deadline = std::chrono::steady_clock::now() + window;
      while (batch.size() < max_rows) {
        if (queue_.empty()) {
          if (stopping_ ||
              !not_empty_.wait_until(lock, deadline, [&] { return stopping_ || !queue_.empty(); }))
            break;
          if (queue_.empty()) break;
        }
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    not_full_.notify_all();
    const std::size_t n = batch.size();
    apply_batch(batch);
    batch.clear();
    {
      std::lock_guard lock(mutex_);
      finished_ += n;
    }
    drained_.notify_all();
  }
  std::lock_guard lock(mutex_);
  drained_.notify_all();
}

std::string StoreWriter::disk_error() const {
  std::lock_guard lock(mutex_);
  return disk_error_;
}

void StoreWriter::note_disk_error(const std::exception& e) {
  const auto* sqlite = dynamic_cast<const SQLite::Exception*>(&e);
  if (sqlite == nullptr) return;
  switch (sqlite->getErrorCode() & 0xff) {  // the primary result code
    case SQLITE_FULL:
    case SQLITE_IOERR:
    case SQLITE_READONLY:
    case SQLITE_CANTOPEN:
    case SQLITE_CORRUPT: {
      std::lock_guard lock(mutex_);
      disk_error_ = e.what();
      break;
    }
    default: break;  // a bad write (a constraint), not the disk
  }
}

void StoreWriter::apply_batch(std::deque<StoreWrite>& batch) {
  if (batch.empty()) return;
  try {
    SQLite::Transaction tx(*db_, SQLite::TransactionBehavior::IMMEDIATE);
    for (auto& w : batch) w.apply(*db_);
    LOA_FAULT_POINT("store.commit");  // the batch written, not committed
    tx.commit();
    committed_ += batch.size();
    ++batches_;
    {
      std::lock_guard lock(mutex_);
      disk_error_.clear();
    }
    for (auto& w : batch)
      if (w.done) w.done(true, {});
    return;
  } catch (const std::exception& e) {
    note_disk_error(e);
    if (batch.size() == 1) {
      ++failed_;
      spdlog::error("store: a write failed: {}", e.what());
      if (batch.front().done) batch.front().done(false, e.what());
      return;
    }
    spdlog::warn("store: batch of {} failed ({}); retrying its writes one by one", batch.size(),
                 e.what());
  }
  for (auto& w : batch) {
    std::deque<StoreWrite> one;
    one.push_back(std::move(w));
    apply_batch(one);
  }
}

}  // namespace loa::engine
