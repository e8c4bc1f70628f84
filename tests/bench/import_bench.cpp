// Import throughput of the real `loa contacts import`, on a clean list made by the department
// fixture generator (gen_households.py --clean). Measures rows/s and the peak RSS of the loa
// process (wait4's ru_maxrss), with --dry-run and with writing to a fresh SQLite store.
//
// The same rows as an .xlsx workbook (two title rows, phones as numeric cells, written by
// tests/support/list_formats with libxlsxwriter) measure the workbook reader: BM_ImportXlsx*.
//
// LOA_BENCH_ROWS sets the list size (default 1,000,000; ops/bench --quick uses 200,000).
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "tests/support/list_formats.hpp"
#include "tests/support/test_dirs.hpp"

namespace {
namespace fs = std::filesystem;

long rows_wanted() {
  const char* env = std::getenv("LOA_BENCH_ROWS");
  return env ? std::atol(env) : 1000000;
}

const std::string& list_file() {
  static const std::string path = [] {
    const std::string out = "/tmp/loa-bench-households-" + std::to_string(rows_wanted()) + ".csv";
    if (!fs::exists(out)) {
      const std::string cmd = "python3 " +
                              (loa::test::fixtures_dir() / "gen_households.py").string() +
                              " --clean --rows " + std::to_string(rows_wanted()) + " > " + out;
      if (std::system(cmd.c_str()) != 0) std::abort();
    }
    return out;
  }();
  return path;
}

const std::string& xlsx_file() {
  static const std::string path = [] {
    const std::string out = "/tmp/loa-bench-households-" + std::to_string(rows_wanted()) + ".xlsx";
    if (!fs::exists(out)) {
      // Written by a child: the table it reads would otherwise stay in this process, and a
      // forked loa inherits it into its peak RSS (ru_maxrss counts the pages before exec).
      const pid_t pid = ::fork();
      if (pid == 0) {
        loa::test::XlsxLayout layout;
        layout.titles = {"DANH SÁCH HỘ NGHÈO, HỘ CẬN NGHÈO", "Tỉnh Đắk Lắk"};
        layout.phone_column = 3;  // gen_households.py: STT, Mã hộ, Họ và tên, Số điện thoại, …
        layout.constant_memory = true;
        loa::test::write_xlsx(loa::test::read_csv_table(list_file()), out + ".tmp", layout);
        ::_exit(0);
      }
      int status = -1;
      ::waitpid(pid, &status, 0);
      if (status != 0) std::abort();
      fs::rename(out + ".tmp", out);
    }
    return out;
  }();
  return path;
}

struct RunResult {
  double seconds = 0;
  long max_rss_kb = 0;
  int status = -1;
};

RunResult run_loa(const fs::path& data_dir, bool dry_run, const std::string& file) {
  const auto started = std::chrono::steady_clock::now();
  pid_t pid = ::fork();
  if (pid == 0) {
    ::setenv("LOA_DAEMON_DATA_DIR", data_dir.c_str(), 1);
    const int devnull = ::open("/dev/null", O_WRONLY);
    ::dup2(devnull, 1);
    const std::string bin = loa::test::loa_binary().string();
    if (dry_run) {
      ::execl(bin.c_str(), "loa", "contacts", "import", "--dry-run", file.c_str(),
              static_cast<char*>(nullptr));
    } else {
      ::execl(bin.c_str(), "loa", "contacts", "import", file.c_str(), static_cast<char*>(nullptr));
    }
    ::_exit(127);
  }
  RunResult r;
  rusage usage{};
  ::wait4(pid, &r.status, 0, &usage);
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  r.max_rss_kb = usage.ru_maxrss;
  return r;
}

void import_bench(benchmark::State& state, bool dry_run, bool xlsx = false) {
  const std::string file = xlsx ? xlsx_file() : list_file();
  loa::test::TempDir dir;
  long rss = 0;
  for (auto _ : state) {
    state.PauseTiming();
    fs::remove_all(dir / "data");
    state.ResumeTiming();
    const RunResult r = run_loa(dir / "data", dry_run, file);
    if (r.status != 0) {
      state.SkipWithError("loa contacts import failed");
      return;
    }
    state.SetIterationTime(r.seconds);
    rss = std::max(rss, r.max_rss_kb);
  }
  state.counters["rows_per_second"] = benchmark::Counter(
      static_cast<double>(rows_wanted()) * static_cast<double>(state.iterations()),
      benchmark::Counter::kIsRate);
  state.counters["peak_rss_mb"] = static_cast<double>(rss) / 1024.0;
  state.counters["rows"] = static_cast<double>(rows_wanted());
}

void BM_ImportDryRun(benchmark::State& state) { import_bench(state, true); }
void BM_ImportWrite(benchmark::State& state) { import_bench(state, false); }
void BM_ImportXlsxDryRun(benchmark::State& state) { import_bench(state, true, true); }

BENCHMARK(BM_ImportDryRun)->Iterations(1)->UseManualTime()->Unit(benchmark::kSecond);
BENCHMARK(BM_ImportWrite)->Iterations(1)->UseManualTime()->Unit(benchmark::kSecond);
BENCHMARK(BM_ImportXlsxDryRun)->Iterations(1)->UseManualTime()->Unit(benchmark::kSecond);

}  // namespace

BENCHMARK_MAIN();
