#include "engine/logging.hpp"

#include <gtest/gtest.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cstdio>
#include <fstream>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/test_dirs.hpp"

namespace loa::engine {
namespace {

TEST(LoggingTest, RedactsSecrets) {
  EXPECT_EQ(redact("short"), "***");
  EXPECT_EQ(redact("abcdefghijklmnop"), "***op");
}

// The daemon logs from its io threads, the store writer and the api workers at once: in JSON
// mode every line must stay one whole JSON object (no interleaving), none may be lost, and
// the escaping must hold. Under ThreadSanitizer (ops/tsan) this is the logger's race check.
TEST(LoggingTest, JsonLinesStayWholeWhenManyThreadsLog) {
  test::TempDir dir;
  const auto path = dir / "stderr.log";
  std::fflush(stderr);
  const int saved = ::dup(2);
  ASSERT_GE(saved, 0);
  FILE* file = std::fopen(path.c_str(), "w");
  ASSERT_NE(file, nullptr);
  ::dup2(::fileno(file), 2);

  configure_logging(LogConfig{"info", "json"});
  constexpr int kThreads = 4;
  constexpr int kLines = 200;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([t] {
      for (int i = 0; i < kLines; ++i)
        spdlog::info("thread {} line {} \"quoted\" Đắk Lắk {}", t, i, redact("secret-token-1234"));
    });
  }
  for (auto& th : threads) th.join();
  spdlog::default_logger()->flush();

  std::fflush(stderr);
  ::dup2(saved, 2);
  ::close(saved);
  std::fclose(file);

  std::ifstream in(path);
  std::string line;
  std::set<std::string> seen;
  while (std::getline(in, line)) {
    boost::system::error_code ec;
    auto v = boost::json::parse(line, ec);
    ASSERT_FALSE(ec) << "not one JSON object: " << line;
    const std::string msg(v.at("msg").as_string());
    EXPECT_NE(msg.find("\"quoted\" Đắk Lắk ***34"), std::string::npos) << msg;
    seen.insert(msg.substr(0, msg.find(" \"")));
  }
  EXPECT_EQ(seen.size(), std::size_t{kThreads} * kLines);
}

}  // namespace
}  // namespace loa::engine
