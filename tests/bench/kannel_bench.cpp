// loa against a real SMS gateway (issue [9/10]): Debian's Kannel (bearerbox, smsbox, and
// fakesmsc as the SMS centre; tests/support/kannel_peer.hpp), LOA_BENCH_KANNEL_MESSAGES
// (default 100,000) messages of one fixed Vietnamese text (UCS-2, one segment), delivery
// reports on (dlr-mask 27: Kannel's fake SMSC answers 8 then 1 for each). Each run starts a
// fresh Kannel. Every run is timed from the first request until fakesmsc has every message and
// every final delivery report (status 1) has reached its receiver.
//
// BM_KannelHttpCeiling: the most Kannel takes over HTTP here: wrk (ops/bench/numbered.lua,
// keep-alive, 1 thread, 16 connections) pushes the messages into smsbox's sendsms, with the
// same parameters loa's kannel adapter sends (coding=2, charset=UTF-8, dlr-mask, a URL-encoded
// dlr-url carrying the message's id and a token); a minimal HTTP sink counts the reports.
// BM_KannelMtbatch: Kannel's own path, for context: mtbatch (kannel-extras) connects to
// bearerbox as a box and pushes the messages straight in (coding 0: mtbatch has no other).
// bearerbox hands some reports to mtbatch itself, which drops them until it disconnects
// (reference/kannel-facts.md), so reports are counted but not waited for.
// BM_KannelLoa: the same messages as a campaign: planned into the outbox (not timed), then
// `loa serve` (role all, the kannel adapter, no rate limit) sends them, and Kannel's reports
// come back to loa's webhook and into the outbox: timed until fakesmsc has them all and the
// outbox has every message delivered. The adapter gets as many connections to smsbox as wrk
// has in the ceiling (LOA_BENCH_KANNEL_CONNECTIONS, default 16; the route's `connections`
// setting): smsbox answers each request only after bearerbox has taken the message, so the
// throughput of either client is proportional to its concurrency, and comparing 8 with 16
// measured the concurrency rather than the cost of loa.
//
// Each reports messages/s and the CPU share of bearerbox, smsbox and fakesmsc over the run
// (CPU seconds / wall seconds; 1.0 is one core saturated), to show where Kannel's bottleneck is.
#include <benchmark/benchmark.h>
#include <signal.h>

#include <fstream>
#include <thread>

#include "tests/bench/bench_support.hpp"
#include "tests/support/http_sink.hpp"
#include "tests/support/kannel_peer.hpp"
#include "tests/support/loa_process.hpp"
#include "tests/support/redis_fixture.hpp"
#include "tests/support/test_dirs.hpp"

namespace {

using namespace loa;
using namespace std::chrono_literals;

long long messages() { return bench::env_or("LOA_BENCH_KANNEL_MESSAGES", 100000); }
// Requests in flight to smsbox, for wrk and for loa alike.
long long connections() { return bench::env_or("LOA_BENCH_KANNEL_CONNECTIONS", 16); }

// CPU share of each Kannel process since `before` over `seconds`.
void kannel_cpu(benchmark::State& state, const test::KannelPeer& kannel,
                const std::vector<double>& before, double seconds) {
  const auto after = kannel.cpu_seconds();
  const char* names[] = {"bearerbox_cpu_share", "smsbox_cpu_share", "fakesmsc_cpu_share"};
  for (std::size_t i = 0; i < 3 && i < after.size() && i < before.size(); ++i)
    state.counters[names[i]] = (after[i] - before[i]) / seconds;
}

void BM_KannelHttpCeiling(benchmark::State& state) {
  const long long n = messages();
  for (auto _ : state) {
    state.PauseTiming();
    test::HttpSink sink("OK", "status=1&");
    std::unique_ptr<test::KannelPeer> kannel;
    try {
      kannel = std::make_unique<test::KannelPeer>(sink.url("/mo"));
    } catch (const std::exception& e) {
      state.SkipWithError(e.what());
      return;
    }
    const std::string url = kannel->sendsms_url();  // http://127.0.0.1:<port>/cgi-bin/sendsms
    const auto path_at = url.find('/', 7);
    bench::WrkLoad load;
    load.url = url.substr(0, path_at);
    load.path = url.substr(path_at) + "?username=" + test::KannelPeer::kUser +
                "&password=" + test::KannelPeer::kPassword + "&from=8088&to={phone}&text=" +
                bench::url_encode(bench::kFixedText) +
                "&coding=2&charset=UTF-8&dlr-mask=27&dlr-url=" +
                bench::url_encode(sink.url("/dlr?id=")) + "{id}" +
                bench::url_encode("&token=bench-dlr-t0ken&status=%d&answer=%A&msgid=%F");
    load.count = n;
    load.threads = 1;
    load.connections = static_cast<int>(connections());
    const auto cpu0 = kannel->cpu_seconds();
    state.ResumeTiming();

    const auto start = std::chrono::steady_clock::now();
    const auto run = bench::run_wrk(load);
    const bool done = run.ok && bench::wait_until(
        [&] { return kannel->received_count() >= static_cast<std::size_t>(n) &&
                     sink.matching() >= static_cast<std::uint64_t>(n); },
        10min, 50ms);
    const double seconds = bench::seconds_since(start);

    state.PauseTiming();
    if (!run.ok || !done) {
      state.SkipWithError((run.ok ? "fakesmsc got " + std::to_string(kannel->received_count()) +
                                        ", reports " + std::to_string(sink.matching()) +
                                        "; Kannel's logs:\n" + kannel->logs()
                                  : run.error)
                              .c_str());
      return;
    }
    kannel_cpu(state, *kannel, cpu0, seconds);
    state.counters["messages"] = static_cast<double>(n);
    state.counters["messages_per_second"] = static_cast<double>(n) / seconds;
    state.counters["sendsms_accepted_per_second"] = static_cast<double>(n) / run.seconds;
    state.counters["http_errors"] = static_cast<double>(run.errors);
    state.ResumeTiming();
  }
}
BENCHMARK(BM_KannelHttpCeiling)->Unit(benchmark::kSecond)->UseRealTime()->Iterations(1);

void BM_KannelMtbatch(benchmark::State& state) {
  const long long n = messages();
  for (auto _ : state) {
    state.PauseTiming();
    test::TempDir dir;
    test::HttpSink sink("OK", "status=1");
    std::unique_ptr<test::KannelPeer> kannel;
    try {
      kannel = std::make_unique<test::KannelPeer>(sink.url("/mo"));
    } catch (const std::exception& e) {
      state.SkipWithError(e.what());
      return;
    }
    test::write_file(dir / "content.txt", bench::kFixedText);
    {
      std::ofstream receivers(dir / "receivers.txt");
      for (long long id = 1; id <= n; ++id) receivers << "849" << 10000000 + id << "\n";
    }
    const auto cpu0 = kannel->cpu_seconds();
    state.ResumeTiming();

    const auto start = std::chrono::steady_clock::now();
    const pid_t mtbatch = bench::spawn(
        {"mtbatch", "-v", "2", "-b", "127.0.0.1", "-p", std::to_string(kannel->smsbox_port()),
         "-f", "8088", "-D", "27", "-u", sink.url("/dlr?status=%d"), (dir / "content.txt").string(),
         (dir / "receivers.txt").string()},
        dir / "mtbatch.log");
    const bool done = bench::wait_until(
        [&] { return kannel->received_count() >= static_cast<std::size_t>(n); }, 10min, 50ms);
    const double seconds = bench::seconds_since(start);

    state.PauseTiming();
    const int status = bench::wait_exit(mtbatch, std::chrono::seconds(60));
    // Reports that bearerbox gave mtbatch reach smsbox once it has gone (kannel-facts.md).
    bench::wait_until([&] { return sink.matching() >= static_cast<std::uint64_t>(n); }, 10s);
    if (!done) {
      state.SkipWithError(("fakesmsc got " + std::to_string(kannel->received_count()) + " of " +
                           std::to_string(n) + "; mtbatch exit " + std::to_string(status) + ": " +
                           bench::read_text(dir / "mtbatch.log").substr(0, 2000))
                              .c_str());
      return;
    }
    kannel_cpu(state, *kannel, cpu0, seconds);
    state.counters["messages"] = static_cast<double>(n);
    state.counters["messages_per_second"] = static_cast<double>(n) / seconds;
    state.counters["reports_at_sink"] = static_cast<double>(sink.matching());
    state.ResumeTiming();
  }
}
BENCHMARK(BM_KannelMtbatch)->Unit(benchmark::kSecond)->UseRealTime()->Iterations(1);

void BM_KannelLoa(benchmark::State& state) {
  const long long n = messages();
  const long long links = connections();
  for (auto _ : state) {
    state.PauseTiming();
    test::TempDir dir;
    const auto campaign =
        bench::plan_campaign(dir, n, bench::kFixedCampaign, bench::write_fixed_template(dir));
    if (!campaign.error.empty()) {
      state.SkipWithError(campaign.error.c_str());
      return;
    }
    const long long planned = campaign.planned;
    const auto port = test::free_port();
    const std::string loa = "http://127.0.0.1:" + std::to_string(port);
    std::unique_ptr<test::KannelPeer> kannel;
    try {
      kannel = std::make_unique<test::KannelPeer>(loa + "/webhooks/sms/reply");
    } catch (const std::exception& e) {
      state.SkipWithError(e.what());
      return;
    }
    test::PrivateRedis redis(/*appendonly=*/true);
    test::write_file(dir / "loa.toml",
                     "[routes.sms]\ngateway = \"kannel\"\nrate_per_second = 0\n"
                     "[routes.sms.options]\nurl = \"" + kannel->sendsms_url() + "\"\n"
                     "username = \"" + std::string(test::KannelPeer::kUser) + "\"\n"
                     "password_env = \"LOA_BENCH_KANNEL_PASSWORD\"\nfrom = \"8088\"\n"
                     "dlr_url = \"" + loa + "/webhooks/sms/receipt\"\n"
                     "dlr_token_env = \"LOA_BENCH_KANNEL_DLR_TOKEN\"\n" +
                     "connections = " + std::to_string(links) + "\n");
    std::map<std::string, std::string> env{
        {"LOA_DAEMON_DATA_DIR", campaign.data_dir},
        {"LOA_REDIS_URL", redis.unix_url()},
        {"LOA_LOG_LEVEL", "warn"},
        {"LOA_HTTP_LISTEN", "127.0.0.1:" + std::to_string(port)},
        {"LOA_BENCH_KANNEL_PASSWORD", test::KannelPeer::kPassword},
        {"LOA_BENCH_KANNEL_DLR_TOKEN", "bench-dlr-t0ken"},
        {"no_proxy", "127.0.0.1,localhost"}};
    const auto cpu0 = kannel->cpu_seconds();
    state.ResumeTiming();

    const auto start = std::chrono::steady_clock::now();
    test::LoaProcess daemon({"serve", "--config", (dir / "loa.toml").string()}, env,
                            dir / "serve.log");
    const bool done = bench::wait_until(
        [&] {
          return kannel->received_count() >= static_cast<std::size_t>(planned) &&
                 bench::count_rows(campaign.data_dir, "state = 'delivered'") == planned;
        },
        10min, 50ms);
    const double seconds = bench::seconds_since(start);

    state.PauseTiming();
    const long long delivered = bench::count_rows(campaign.data_dir, "state = 'delivered'");
    daemon.signal(SIGTERM);
    const int exit = daemon.wait(std::chrono::minutes(1));
    if (!done) {
      state.SkipWithError(("fakesmsc got " + std::to_string(kannel->received_count()) +
                           ", delivered " + std::to_string(delivered) + " of " +
                           std::to_string(planned) + "; " + daemon.log().substr(0, 3000))
                              .c_str());
      return;
    }
    kannel_cpu(state, *kannel, cpu0, seconds);
    const rusage& usage = daemon.usage();
    const double cpu = static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
                       static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
    state.counters["messages"] = static_cast<double>(planned);
    state.counters["messages_per_second"] = static_cast<double>(planned) / seconds;
    if (exit == 0) state.counters["loa_cpu_share"] = cpu / seconds;
    state.ResumeTiming();
  }
}
BENCHMARK(BM_KannelLoa)->Unit(benchmark::kSecond)->UseRealTime()->Iterations(1);

}  // namespace

BENCHMARK_MAIN();
