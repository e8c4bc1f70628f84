// Prometheus metrics of the process (text exposition format 0.0.4), served at /metrics.
//
// Series (DESIGN.md "Bounded and observable"):
//   loa_sends_total{route,outcome}            counter  dispatcher: sent, retried, failed,
//                                                       expired, opted_out, capped
//   loa_send_failures_total{route,class}      counter  failed sends by the adapter's class:
//                                                       retryable, auth, throttled, permanent,
//                                                       unreachable, maybe_sent
//   loa_send_duration_seconds{route}          histogram one gateway call (a batch)
//   loa_delivery_latency_seconds{route}       histogram sent -> delivered, from the events
//                                                       the store applies (this process saw
//                                                       both; at most kLatencyPending waiting)
//   loa_webhook_requests_total{route,kind,status} counter gateway callbacks, by answer
//   loa_queue_depth{route,queue}              gauge    waiting, priority, delayed, leased
//   loa_results_pending{route}                gauge    results stream entries not yet stored
//   loa_store_writer_queue                    gauge    writes waiting for the store writer (lag)
//   loa_store_writer_committed_total          counter
//   loa_api_requests_total{status}            counter  REST API answers
//   loa_http_refused_total{route,reason}      counter  requests and connections refused
//                                                       (engine/refusal_log.hpp)
// Gauges are read when scraped (the daemon collects them); counters and histograms are
// updated where things happen. /metrics needs no token: it holds counts, never a phone
// number, a message or a secret, and http.listen is loopback by default.
//
// Thread-safety: every member is safe from any thread. Counter and Histogram references
// stay valid for the life of the process (families are never removed).
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace loa::engine::metrics {

using Labels = std::vector<std::pair<std::string, std::string>>;

class Counter {
 public:
  void add(std::uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  std::uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void observe(double value);
  struct Snapshot {
    std::vector<std::uint64_t> cumulative;  // per bound, then +Inf
    double sum = 0;
    std::uint64_t count = 0;
  };
  Snapshot snapshot() const;
  const std::vector<double>& bounds() const { return bounds_; }

 private:
  std::vector<double> bounds_;
  mutable std::mutex mutex_;
  std::vector<std::uint64_t> buckets_;  // guarded by mutex_; the last is +Inf
  double sum_ = 0;                      // guarded by mutex_
  std::uint64_t count_ = 0;             // guarded by mutex_
};

// Seconds: 10 ms to 1 hour.
std::vector<double> latency_buckets();

struct GaugeSample {
  std::string name;
  std::string help;
  Labels labels;
  double value = 0;
  bool counter = false;  // exposed as a counter (a total read at scrape time)
};

class Registry {
 public:
  static Registry& global();
  Counter& counter(const std::string& name, const std::string& help, const Labels& labels);
  Histogram& histogram(const std::string& name, const std::string& help, const Labels& labels,
                       const std::vector<double>& bounds = latency_buckets());
  // The exposition of every counter and histogram, then `gauges` (read by the caller now).
  std::string expose(const std::vector<GaugeSample>& gauges = {}) const;

 private:
  struct Family {
    std::string help;
    bool histogram = false;
    std::map<Labels, std::unique_ptr<Counter>> counters;
    std::map<Labels, std::unique_ptr<Histogram>> histograms;
  };
  mutable std::mutex mutex_;
  std::map<std::string, Family> families_;  // guarded by mutex_
};

// `{a="x",b="y"}` with values escaped as the format asks (\\, \", \n); "" for no labels.
std::string format_labels(const Labels& labels);

}  // namespace loa::engine::metrics
