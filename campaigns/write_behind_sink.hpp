// A HouseholdSink that hands households to another sink on a second thread, so that reading
// and checking a list (one core) overlaps with writing it to SQLite (the other core).
//
// Contract:
//  - Households travel in batches through a bounded queue (`max_batches` of `batch_rows`):
//    when the writer falls behind, write() blocks, so memory stays bounded.
//  - begin() runs on the caller's thread before the writer starts; finish() drains the queue,
//    stops the thread, and then calls the inner sink's own finish on the caller's thread.
//  - An exception thrown by the inner sink stops the writer; the next write() or finish()
//    rethrows it on the caller's thread. Nothing is silently dropped.
//
// Thread-safety: write/begin/finish from one producer thread.
#pragma once

#include <condition_variable>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "campaigns/household_import.hpp"

namespace loa::campaigns {

class WriteBehindSink : public HouseholdSink {
 public:
  // `inner_finish` runs after the queue drained (e.g. HouseholdStore::finish).
  WriteBehindSink(HouseholdSink& inner, std::function<void()> inner_finish,
                  std::size_t batch_rows = 1024, std::size_t max_batches = 8);
  ~WriteBehindSink() override;

  void begin(const HeaderMapping& columns) override;
  void write(const Household& household, std::uint64_t line) override;
  void finish();

 private:
  using Batch = std::vector<std::pair<Household, std::uint64_t>>;
  void push_batch();
  void run();
  void rethrow_if_failed();

  HouseholdSink& inner_;
  std::function<void()> inner_finish_;
  std::size_t batch_rows_;
  std::size_t max_batches_;
  Batch current_;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<Batch> queue_;    // guarded by mutex_
  bool closing_ = false;       // guarded by mutex_
  std::exception_ptr error_;   // guarded by mutex_
};

}  // namespace loa::campaigns
