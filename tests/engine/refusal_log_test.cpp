// RefusalLog: every refusal counted, a few logged per route and reason and interval, the rest
// summed up in one line, so that a flood cannot fill the disk.
#include "engine/refusal_log.hpp"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <sstream>
#include <string>

#include "engine/metrics.hpp"

namespace loa::engine {
namespace {

using namespace std::chrono_literals;

// Captures what the default logger writes while it lives.
class CapturedLog {
 public:
  CapturedLog() : saved_(spdlog::default_logger()) {
    auto logger = std::make_shared<spdlog::logger>(
        "captured", std::make_shared<spdlog::sinks::ostream_sink_mt>(out_));
    logger->set_pattern("%v");
    spdlog::set_default_logger(std::move(logger));
  }
  ~CapturedLog() { spdlog::set_default_logger(saved_); }
  std::string text() const { return out_.str(); }
  std::size_t lines() const {
    const auto t = text();
    return static_cast<std::size_t>(std::count(t.begin(), t.end(), '\n'));
  }

 private:
  std::ostringstream out_;
  std::shared_ptr<spdlog::logger> saved_;
};

std::uint64_t counted(const std::string& route, const std::string& reason) {
  return metrics::Registry::global()
      .counter("loa_http_refused_total", "", {{"route", route}, {"reason", reason}})
      .value();
}

TEST(RefusalLogTest, AFloodIsCountedInFullButLoggedAFewLinesPerInterval) {
  CapturedLog log;
  RefusalLog refusals({3, 60s});
  const auto t0 = RefusalLog::Clock::now();
  const std::string route = "/webhooks/flood-test/receipt";
  const auto before = counted(route, "unauthorized");
  for (int i = 0; i < 12'348; ++i)
    refusals.refused(route, RefusalReason::kUnauthorized, "wrong or missing token", t0 + 1ms * i);
  EXPECT_EQ(counted(route, "unauthorized"), before + 12'348);
  EXPECT_EQ(log.lines(), 3u) << log.text();
  EXPECT_NE(log.text().find("http /webhooks/flood-test/receipt: refused (unauthorized): wrong "
                            "or missing token"),
            std::string::npos)
      << log.text();
  // Another reason on the same route has lines of its own.
  refusals.refused(route, RefusalReason::kMalformed, "no id", t0 + 13s);
  EXPECT_EQ(log.lines(), 4u);
  // Before the interval ends, flush() says nothing; after, it sums up what was left out.
  refusals.flush(t0 + 59s);
  EXPECT_EQ(log.lines(), 4u);
  refusals.flush(t0 + 61s);
  EXPECT_EQ(log.lines(), 5u);
  EXPECT_NE(log.text().find("refused (unauthorized) … and 12,345 more in the last 61 s"),
            std::string::npos)
      << log.text();
  // A new interval logs again.
  refusals.refused(route, RefusalReason::kUnauthorized, "wrong or missing token", t0 + 62s);
  EXPECT_EQ(log.lines(), 6u);
}

TEST(RefusalLogTest, AFinalFlushSumsUpAnIntervalNotYetOver) {
  CapturedLog log;
  RefusalLog refusals({1, 60s});
  const auto t0 = RefusalLog::Clock::now();
  for (int i = 0; i < 3; ++i)
    refusals.refused("(connection)", RefusalReason::kTooManyFromClient, "cap", t0);
  refusals.flush(t0 + 1s);
  EXPECT_EQ(log.lines(), 1u);
  refusals.flush(t0 + 2s, true);
  EXPECT_EQ(log.lines(), 2u);
  EXPECT_NE(log.text().find("… and 2 more in the last 2 s"), std::string::npos) << log.text();
  refusals.flush(t0 + 3s, true);  // nothing left out since: no line
  EXPECT_EQ(log.lines(), 2u);
}

}  // namespace
}  // namespace loa::engine
