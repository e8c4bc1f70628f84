// Requests the HTTP server or a webhook refused (a forged signature, a body too large, a
// client over its connection cap...): every one counted on /metrics, only a few logged, so
// that a flood of them cannot fill the disk. A flood of 600,000 forged receipts a minute
// grew the log by 112.7 MB when each refusal wrote a line.
//
// Contract:
//  - refused() adds one to loa_http_refused_total{route,reason} and logs the detail at warn,
//    unless `lines_per_interval` lines of the same (route, reason) were logged in the current
//    interval; those beyond are only counted.
//  - flush() (the server calls it every interval, and at shutdown with `final`) ends every
//    interval that has run out and logs one summary line per (route, reason) that had refusals left
//    out: "… and 12,345 more in the last 60 s". A later refusal ends its interval the same way.
//  - `route` is a registered route, never raw client input, and `reason` a RefusalReason:
//    both become metric labels and map keys, which must stay few.
//
// Thread-safety: every member is safe from any thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

namespace loa::engine {

enum class RefusalReason {
  kUnauthorized,        // 401: a bad token or signature
  kMalformed,           // 400: an unreadable request or callback
  kBodyTooLarge,        // 413
  kHeaderTooLarge,      // 431
  kHeaderTimeout,       // the header block did not arrive within http.header_timeout_ms
  kTooManyConnections,  // 503: http.max_connections reached
  kTooManyFromClient,   // 503: http.max_connections_per_client reached
  kAcceptFailed,        // accept(2) failed, e.g. EMFILE
  kUploadsFull,         // 503: http.upload_spool_limit_bytes reached
  kNotDurable,          // 503: a webhook's event is neither in Redis nor spooled (gateway retries)
};
std::string_view to_string(RefusalReason reason);

struct RefusalLogOptions {
  std::size_t lines_per_interval = 10;
  std::chrono::milliseconds interval{60000};
};

class RefusalLog {
 public:
  using Clock = std::chrono::steady_clock;
  explicit RefusalLog(RefusalLogOptions options = {});

  void refused(std::string_view route, RefusalReason reason, std::string_view detail,
               Clock::time_point now = Clock::now());
  // `final`: end every interval now (at shutdown), not only those that ran out.
  void flush(Clock::time_point now = Clock::now(), bool final = false);

 private:
  struct Window {
    Clock::time_point start;
    std::size_t logged = 0;
    std::uint64_t left_out = 0;
  };
  void end_if_over(const std::pair<std::string, RefusalReason>& key, Window& w,
                   Clock::time_point now, bool always);

  RefusalLogOptions options_;
  std::mutex mutex_;
  std::map<std::pair<std::string, RefusalReason>, Window> windows_;  // guarded by mutex_
};

}  // namespace loa::engine
