// Expansion of a campaign into the outbox, with rendering: the real `loa campaign expand` over
// a clean list of LOA_BENCH_ROWS households (default 1,000,000) imported by `loa contacts
// import`, with the shipped template library. Measures messages/s and the peak RSS of the loa
// process (wait4's ru_maxrss). Each repetition expands a fresh campaign over the same store.
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "engine/store.hpp"
#include "tests/support/test_dirs.hpp"

namespace {
namespace fs = std::filesystem;

long rows_wanted() {
  const char* env = std::getenv("LOA_BENCH_ROWS");
  return env ? std::atol(env) : 1000000;
}

struct Setup {
  loa::test::TempDir dir;
  fs::path data = dir / "data";
  std::string loa(const std::string& args) const {
    return "LOA_LOG_LEVEL=warn LOA_DAEMON_DATA_DIR=" + data.string() + " " +
           loa::test::loa_binary().string() + " " + args + " > /dev/null";
  }
};

const Setup& setup() {
  // Built once for every repetition; destroyed at exit with its temp dir (a 1M-household store
  // grows to over 1.5 GB).
  static const std::unique_ptr<Setup> s = [] {
    auto st = std::make_unique<Setup>();
    const std::string list = "/tmp/loa-bench-households-" + std::to_string(rows_wanted()) + ".csv";
    if (!fs::exists(list)) {
      const std::string gen = "python3 " +
                              (loa::test::fixtures_dir() / "gen_households.py").string() +
                              " --clean --rows " + std::to_string(rows_wanted()) + " > " + list;
      if (std::system(gen.c_str()) != 0) std::abort();
    }
    const std::string templates = (loa::test::source_dir() / "ops/examples/templates.toml").string();
    if (std::system(st->loa("templates load " + templates).c_str()) != 0 ||
        std::system(st->loa("contacts import " + list).c_str()) != 0)
      std::abort();
    return st;
  }();
  return *s;
}

void BM_PlanExpand(benchmark::State& state) {
  const Setup& s = setup();
  static int n = 0;
  long rss = 0;
  long long messages = 0;
  for (auto _ : state) {
    state.PauseTiming();
    const std::string name = "bench-" + std::to_string(++n);
    const fs::path file = s.dir / (name + ".toml");
    std::ofstream(file) << "[campaign]\nname = \"" << name
                        << "\"\ntemplate = \"ho_tro_bhyt\"\naudience = '*'\nchannels = "
                           "[\"zalo_zns\", \"sms\"]\nstart_at = \"2026-01-01\"\nend_at = "
                           "\"2099-01-01\"\n";
    if (std::system(s.loa("campaign create " + file.string()).c_str()) != 0 ||
        std::system(s.loa("campaign launch --detach " + name).c_str()) != 0) {
      state.SkipWithError("campaign set-up failed");
      return;
    }
    state.ResumeTiming();
    const auto started = std::chrono::steady_clock::now();
    pid_t pid = ::fork();
    if (pid == 0) {
      ::setenv("LOA_DAEMON_DATA_DIR", s.data.c_str(), 1);
      ::setenv("LOA_LOG_LEVEL", "warn", 1);
      const int devnull = ::open("/dev/null", O_WRONLY);
      ::dup2(devnull, 1);
      ::execl(loa::test::loa_binary().c_str(), "loa", "campaign", "expand",
              static_cast<char*>(nullptr));
      ::_exit(127);
    }
    int status = 0;
    rusage usage{};
    ::wait4(pid, &status, 0, &usage);
    state.SetIterationTime(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    if (status != 0) {
      state.SkipWithError("loa campaign expand failed");
      return;
    }
    rss = std::max(rss, usage.ru_maxrss);
    auto db = loa::engine::open_store(s.data / "loa.db", loa::engine::StoreMode::kReadOnly);
    SQLite::Statement q(db,
                        "SELECT r.planned FROM rounds r JOIN campaigns c ON c.id = "
                        "r.campaign_id WHERE c.name = ?");
    q.bind(1, name);
    if (q.executeStep()) messages += q.getColumn(0).getInt64();
  }
  state.counters["messages_per_second"] =
      benchmark::Counter(static_cast<double>(messages), benchmark::Counter::kIsRate);
  state.counters["messages"] = static_cast<double>(messages) / static_cast<double>(state.iterations());
  state.counters["peak_rss_mb"] = static_cast<double>(rss) / 1024.0;
}

BENCHMARK(BM_PlanExpand)->Iterations(1)->UseManualTime()->Unit(benchmark::kSecond);

}  // namespace

BENCHMARK_MAIN();
