#include "campaigns/write_behind_sink.hpp"

namespace loa::campaigns {

WriteBehindSink::WriteBehindSink(HouseholdSink& inner, std::function<void()> inner_finish,
                                 std::size_t batch_rows, std::size_t max_batches)
    : inner_(inner),
      inner_finish_(std::move(inner_finish)),
      batch_rows_(batch_rows ? batch_rows : 1),
      max_batches_(max_batches ? max_batches : 1) {
  current_.reserve(batch_rows_);
}

WriteBehindSink::~WriteBehindSink() {
  {
    std::lock_guard lock(mutex_);
    closing_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void WriteBehindSink::begin(const HeaderMapping& columns) {
  inner_.begin(columns);
  thread_ = std::thread([this] { run(); });
}

void WriteBehindSink::write(const Household& household, std::uint64_t line) {
  current_.emplace_back(household, line);
  if (current_.size() >= batch_rows_) push_batch();
}

void WriteBehindSink::push_batch() {
  std::unique_lock lock(mutex_);
  cv_.wait(lock, [&] { return queue_.size() < max_batches_ || error_; });
  if (error_) std::rethrow_exception(error_);
  queue_.push_back(std::move(current_));
  current_ = Batch();
  current_.reserve(batch_rows_);
  lock.unlock();
  cv_.notify_all();
}

void WriteBehindSink::run() {
  for (;;) {
    Batch batch;
    {
      std::unique_lock lock(mutex_);
      cv_.wait(lock, [&] { return !queue_.empty() || closing_; });
      if (queue_.empty()) return;
      batch = std::move(queue_.front());
      queue_.pop_front();
    }
    cv_.notify_all();
    try {
      for (const auto& [h, line] : batch) inner_.write(h, line);
    } catch (...) {
      std::lock_guard lock(mutex_);
      error_ = std::current_exception();
      queue_.clear();
      cv_.notify_all();
      return;
    }
  }
}

void WriteBehindSink::rethrow_if_failed() {
  std::lock_guard lock(mutex_);
  if (error_) std::rethrow_exception(error_);
}

void WriteBehindSink::finish() {
  if (!current_.empty()) push_batch();
  {
    std::lock_guard lock(mutex_);
    closing_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  rethrow_if_failed();
  if (inner_finish_) inner_finish_();
}

}  // namespace loa::campaigns
