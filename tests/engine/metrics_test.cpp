#include "engine/metrics.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

namespace loa::engine::metrics {
namespace {

TEST(MetricsRegistry, ExposesCountersAndHistogramsWithEscapedLabels) {
  Registry registry;
  registry.counter("loa_x_total", "x", {{"route", "a\"b\\c\nd"}}).add(3);
  auto& h = registry.histogram("loa_y_seconds", "y", {{"route", "r"}}, {0.1, 1});
  h.observe(0.05);
  h.observe(5);
  const std::string text = registry.expose({{"loa_z", "z", {}, 2.5, false}});
  EXPECT_NE(text.find("loa_x_total{route=\"a\\\"b\\\\c\\nd\"} 3\n"), std::string::npos) << text;
  EXPECT_NE(text.find("loa_y_seconds_bucket{route=\"r\",le=\"0.1\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("loa_y_seconds_bucket{route=\"r\",le=\"+Inf\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("loa_y_seconds_count{route=\"r\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("# TYPE loa_z gauge\nloa_z 2.5\n"), std::string::npos);
}

// Producers on several threads register (the same and new series) and update them while a
// scraper exposes the registry: no update is lost and every series stays where it was. Under
// ThreadSanitizer (ops/tsan) this is the registry's race check.
TEST(MetricsRegistry, ManyThreadsUpdateWhileAScraperExposes) {
  Registry registry;
  constexpr int kThreads = 4;
  constexpr int kRounds = 2000;
  std::atomic<bool> done{false};
  std::thread scraper([&] {
    while (!done.load()) {
      const std::string text = registry.expose();
      EXPECT_EQ(text.find("nan"), std::string::npos);
    }
  });
  std::vector<std::thread> producers;
  for (int t = 0; t < kThreads; ++t) {
    producers.emplace_back([&registry, t] {
      const std::string own = "r" + std::to_string(t);
      for (int i = 0; i < kRounds; ++i) {
        registry.counter("loa_shared_total", "shared", {{"route", "all"}}).add();
        registry.counter("loa_own_total", "own", {{"route", own}}).add(2);
        registry.histogram("loa_lat_seconds", "lat", {{"route", own}}).observe(0.02);
      }
    });
  }
  for (auto& p : producers) p.join();
  done = true;
  scraper.join();

  EXPECT_EQ(registry.counter("loa_shared_total", "shared", {{"route", "all"}}).value(),
            std::uint64_t{kThreads} * kRounds);
  for (int t = 0; t < kThreads; ++t) {
    const std::string own = "r" + std::to_string(t);
    EXPECT_EQ(registry.counter("loa_own_total", "own", {{"route", own}}).value(),
              2u * kRounds);
    const auto s = registry.histogram("loa_lat_seconds", "lat", {{"route", own}}).snapshot();
    EXPECT_EQ(s.count, std::uint64_t{kRounds});
    EXPECT_EQ(s.cumulative.back(), std::uint64_t{kRounds});
  }
}

}  // namespace
}  // namespace loa::engine::metrics
