// What the benchmarks that drive outside programs share: sizes from the environment, running
// wrk with ops/bench/numbered.lua for an exact number of requests, running a command and
// reading a figure from its output, and planning a campaign with the real CLI. Header-only; used from a benchmark's own thread.
#pragma once

#include <SQLiteCpp/Database.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/test_dirs.hpp"

namespace loa::bench {

inline long env_or(const char* name, long fallback) {
  const char* v = std::getenv(name);
  return v ? std::atol(v) : fallback;
}

inline double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

inline std::string read_text(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The number after `key` ("Requests/sec:", "p99_us=") in `text`, or nullopt.
inline std::optional<double> figure_after(const std::string& text, const std::string& key) {
  const auto at = text.find(key);
  if (at == std::string::npos) return std::nullopt;
  return std::atof(text.c_str() + at + key.size());
}

inline pid_t spawn(const std::vector<std::string>& argv, const std::filesystem::path& log) {
  return test::spawn_process(argv, log);
}

// Waits for `pid`; its exit code, 128+signal, or -1 when `limit` passed (it is then killed).
inline int wait_exit(pid_t pid, std::chrono::seconds limit, rusage* usage = nullptr) {
  const auto start = std::chrono::steady_clock::now();
  int status = 0;
  rusage u{};
  for (;;) {
    const pid_t r = ::wait4(pid, &status, WNOHANG, &u);
    if (r == pid) break;
    if (std::chrono::steady_clock::now() - start > limit) {
      ::kill(pid, SIGKILL);
      ::wait4(pid, &status, 0, &u);
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (usage) *usage = u;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

struct WrkRun {
  bool ok = false;
  std::string error;     // when !ok: what went wrong, with wrk's output
  double seconds = 0;    // from start until every thread had its share of answers
  long long answers = 0, errors = 0;
  double p50_ms = 0, p99_ms = 0, max_ms = 0;
};

struct WrkLoad {
  std::string url;  // scheme, host and port: "http://127.0.0.1:8080"
  std::string method = "GET";
  std::string path;  // numbered.lua templates: {id}, {phone}
  std::string body;  // none: no body
  long long first = 1, count = 0;
  int threads = 2, connections = 32;
  std::chrono::seconds limit{600};
};

// Runs wrk with ops/bench/numbered.lua until `count` requests have been answered.
inline WrkRun run_wrk(const WrkLoad& load) {
  WrkRun run;
  test::TempDir dir;
  const auto script = test::source_dir() / "ops/bench/numbered.lua";
  std::vector<std::string> argv{"wrk",
                                "-t", std::to_string(load.threads),
                                "-c", std::to_string(load.connections),
                                "-d", std::to_string(load.limit.count() + 60) + "s",
                                "--timeout", "10s",
                                "-s", script.string(),
                                load.url,
                                "--",
                                std::to_string(load.first),
                                std::to_string(load.count),
                                std::to_string(load.threads),
                                dir.path().string(),
                                load.method,
                                load.path};
  if (!load.body.empty()) argv.push_back(load.body);
  const auto log = dir / "wrk.log";
  const auto start = std::chrono::steady_clock::now();
  const pid_t pid = spawn(argv, log);
  auto all_done = [&] {
    for (int t = 0; t < load.threads; ++t)
      if (!std::filesystem::exists(dir / std::to_string(t))) return false;
    return true;
  };
  while (!all_done()) {
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      run.error = "wrk exited early:\n" + read_text(log);
      return run;
    }
    if (std::chrono::steady_clock::now() - start > load.limit) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
      run.error = "wrk did not get its answers in time:\n" + read_text(log);
      return run;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  run.seconds = seconds_since(start);
  ::kill(pid, SIGINT);
  wait_exit(pid, std::chrono::seconds(30));
  for (int t = 0; t < load.threads; ++t) {
    std::ifstream in(dir / std::to_string(t));
    long long a = 0, e = 0;
    in >> a >> e;
    run.answers += a;
    run.errors += e;
  }
  const std::string out = read_text(log);
  const auto p50 = figure_after(out, "p50_us="), p99 = figure_after(out, "p99_us="),
             max = figure_after(out, "max_us=");
  if (!p50 || !p99 || !max) {
    run.error = "no latency line in wrk's output:\n" + out;
    return run;
  }
  run.p50_ms = *p50 / 1000.0;
  run.p99_ms = *p99 / 1000.0;
  run.max_ms = *max / 1000.0;
  run.ok = true;
  return run;
}

// Requests/s that wrk reaches against `url` in `seconds` (plain GETs, keep-alive).
inline double wrk_ceiling(const std::string& url, int seconds = 3, int threads = 1,
                          int connections = 32) {
  test::TempDir dir;
  const pid_t pid = spawn({"wrk", "-t", std::to_string(threads), "-c", std::to_string(connections),
                           "-d", std::to_string(seconds) + "s", url},
                          dir / "wrk.log");
  if (wait_exit(pid, std::chrono::seconds(seconds + 30)) != 0) return 0;
  return figure_after(read_text(dir / "wrk.log"), "Requests/sec:").value_or(0);
}

// Outbox rows matching `where` in the data directory's store (read-only, waits on locks).
inline long long count_rows(const std::string& data_dir, const std::string& where) {
  SQLite::Database db(data_dir + "/loa.db", SQLite::OPEN_READONLY, 10000);
  return db.execAndGet("SELECT COUNT(*) FROM outbox WHERE " + where).getInt64();
}

// One fixed SMS text for the benchmarks that compare loa with a bare client: Vietnamese with
// its diacritics (so it goes as UCS-2, coding=2), one segment (39 characters).
inline const std::string kFixedText = "Hộ nghèo được hỗ trợ 100% BHYT. Đắk Lắk";

// A template file with that text as template `bench_fixed`, and a campaign of it over every
// household, SMS only, with no quiet hours.
inline std::filesystem::path write_fixed_template(const test::TempDir& dir) {
  const auto path = dir / "bench-templates.toml";
  test::write_file(path, "[templates.bench_fixed]\ntopic = \"Benchmark\"\n"
                         "description = \"One fixed text\"\n\n[templates.bench_fixed.sms]\n"
                         "vi = \"" + kFixedText + "\"\nrad = \"\"\ncmo = \"\"\njra = \"\"\n");
  return path;
}
inline const std::string kFixedCampaign =
    "[campaign]\nname = \"bench\"\ntemplate = \"bench_fixed\"\naudience = '*'\n"
    "channels = [\"sms\"]\nstart_at = \"2026-01-01\"\nend_at = \"2099-01-01\"\n"
    "quiet_hours = \"00:00-00:00\"\n";

// Waits until `done()` or `limit`; true when done.
template <typename Done>
bool wait_until(Done done, std::chrono::seconds limit,
                std::chrono::milliseconds poll = std::chrono::milliseconds(20)) {
  const auto start = std::chrono::steady_clock::now();
  while (!done()) {
    if (std::chrono::steady_clock::now() - start > limit) return false;
    std::this_thread::sleep_for(poll);
  }
  return true;
}

// Percent-encodes everything but unreserved characters (RFC 3986).
inline std::string url_encode(const std::string& text) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (const unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

// A campaign planned into a fresh data directory by the real CLI, as an operator would: the
// generated list of `households` (clean, cached in /tmp), `templates` loaded, the campaign
// created from `campaign_toml` and launched. Returns the number of planned messages, or an
// error message naming the command that failed.
struct PlannedCampaign {
  std::string data_dir;
  long long planned = 0;
  std::string error;
};

inline PlannedCampaign plan_campaign(const test::TempDir& dir, long long households,
                                     const std::string& campaign_toml,
                                     const std::filesystem::path& templates) {
  PlannedCampaign out;
  out.data_dir = (dir / "data").string();
  const std::string cli = "LOA_LOG_LEVEL=warn LOA_DAEMON_DATA_DIR=" + out.data_dir + " " +
                          test::loa_binary().string() + " ";
  const std::string list = "/tmp/loa-bench-households-" + std::to_string(households) + ".csv";
  if (!std::filesystem::exists(list) &&
      std::system(("python3 " + (test::fixtures_dir() / "gen_households.py").string() +
                   " --clean --rows " + std::to_string(households) + " > " + list + ".part && mv " +
                   list + ".part " + list)
                      .c_str()) != 0) {
    out.error = "could not generate " + list;
    return out;
  }
  test::write_file(dir / "campaign.toml", campaign_toml);
  for (const std::string& args :
       {"templates load " + templates.string(), "contacts import " + list,
        "campaign create " + (dir / "campaign.toml").string(), std::string("campaign launch bench")})
    if (std::system((cli + args + " > /dev/null").c_str()) != 0) {
      out.error = "set-up failed: loa " + args;
      return out;
    }
  out.planned = count_rows(out.data_dir, "state = 'planned'");
  return out;
}

}  // namespace loa::bench
