// HTTP gateways and webhooks (issue [9/10]).
//
// BM_HttpFanout: LOA_BENCH_FANOUT_MESSAGES (default 200,000) messages enqueued into one route
// of a private Redis (AOF on), then drained by one in-process dispatcher (the daemon's defaults:
// batch 256, 4 workers) through the real `http` adapter and HTTP client (libcurl multi, at most
// 8 kept-alive connections per host) to a minimal loopback HTTP gateway (tests/support/
// http_sink.hpp), no rate limit. Reports messages/s, the connections the gateway saw open at
// once, and the gateway's own ceiling (wrk against it alone, keep-alive, 32 connections) so it
// is clear the gateway was not the bottleneck.
//
// BM_Webhooks: the real daemon (`loa serve`, role all) with an `http` route to that gateway. A
// campaign of LOA_BENCH_RECEIPTS (default 200,000) households is planned and dispatched first
// (not timed, but reported as daemon_http_messages_per_second: outbox to gateway to outbox
// through the real daemon). Then wrk (ops/bench/numbered.lua) posts one delivery receipt per
// message, form-encoded with the route's dlr token, to /webhooks/sms/receipt. Reports
// receipts/s as wrk saw them answered, p50/p99/max latency, and receipts/s until every receipt
// is in the outbox; receipts_lost (outbox rows not delivered afterwards) must be 0.
#include <benchmark/benchmark.h>
#include <signal.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_future.hpp>
#include <thread>

#include "adapters/http_client.hpp"
#include "adapters/registry.hpp"
#include "engine/dispatcher.hpp"
#include "tests/bench/bench_support.hpp"
#include "tests/bench/queue_support.hpp"
#include "tests/support/http_sink.hpp"
#include "tests/support/loa_process.hpp"
#include "tests/support/redis_fixture.hpp"
#include "tests/support/test_dirs.hpp"

namespace {

namespace asio = boost::asio;
using namespace loa;
using namespace std::chrono_literals;

void BM_HttpFanout(benchmark::State& state) {
  const long long n = bench::env_or("LOA_BENCH_FANOUT_MESSAGES", 200000);
  ::setenv("no_proxy", "127.0.0.1,localhost", 1);
  for (auto _ : state) {
    state.PauseTiming();
    double gateway_ceiling = 0;
    {
      test::HttpSink alone("{\"status\":\"ok\"}");  // the same server, measured on its own
      gateway_ceiling = bench::wrk_ceiling(alone.url("/ceiling"));
    }
    test::HttpSink gateway("{\"status\":\"ok\"}");
    bench::BenchRoute route;
    auto& redis = route.redis;
    auto& io = route.io;
    auto& client = route.client;
    auto& queue = *route.queue;
    bench::enqueue(io, queue, 1, n);
    auto http = adapters::HttpClient::create(io.io(), adapters::HttpClientOptions{});
    adapters::GatewayContext context;
    context.executor = io.io().get_executor();
    context.http = http;
    context.route = "bench";
    const adapters::GatewaySettings settings{
        {"url", gateway.url("/sms/send")},
        {"body", R"({"to":"{{phone_84}}","text":"{{text}}","unicode":{{unicode}},"ref":"{{id}}"})"},
        {"success_json", "/status"},
        {"success_value", "ok"}};
    auto sms = adapters::make_gateway("http", settings, context);
    engine::DispatcherSettings ds;  // the daemon's defaults...
    ds.results_backlog = 0;         // ...but nothing drains the results stream here
    ds.idle = 5ms;
    engine::SystemClock clock;
    engine::Dispatcher dispatcher(io.io(), client, "bench", sms, ds, clock);
    const double requests0 = static_cast<double>(gateway.requests());
    state.ResumeTiming();

    const auto start = std::chrono::steady_clock::now();
    dispatcher.start();
    const bool drained = bench::wait_until(
        [&] { return std::stoll(redis.command("HLEN loa:{bench}:msg")) == 0; }, 30min, 5ms);
    const double seconds = bench::seconds_since(start);

    state.PauseTiming();
    dispatcher.stop();
    sms->close();
    http->close();
    client->close();
    const auto stats = dispatcher.stats();
    if (!drained || stats.sent != n) {
      state.SkipWithError(("sent " + std::to_string(stats.sent) + " of " + std::to_string(n) +
                           " (failed " + std::to_string(stats.failed) + ", retried " +
                           std::to_string(stats.retried) + ")")
                              .c_str());
      return;
    }
    state.counters["messages"] = static_cast<double>(n);
    state.counters["messages_per_second"] = static_cast<double>(n) / seconds;
    state.counters["gateway_requests"] = static_cast<double>(gateway.requests()) - requests0;
    state.counters["open_connections"] = static_cast<double>(gateway.peak_connections());
    state.counters["gateway_ceiling_requests_per_second"] = gateway_ceiling;
    state.ResumeTiming();
  }
}
BENCHMARK(BM_HttpFanout)->Unit(benchmark::kSecond)->UseRealTime()->Iterations(1);

void BM_Webhooks(benchmark::State& state) {
  const long long n = bench::env_or("LOA_BENCH_RECEIPTS", 200000);
  const std::string token = "bench-dlr-t0ken";
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
    test::HttpSink gateway("{\"status\":\"ok\"}");
    test::PrivateRedis redis(/*appendonly=*/true);
    const auto port = test::free_port();
    test::write_file(dir / "loa.toml",
                     "[routes.sms]\ngateway = \"http\"\nrate_per_second = 0\n"
                     "[routes.sms.options]\nurl = \"" + gateway.url("/sms/send") + "\"\n"
                     "body = 'to={{phone_84}}&text={{text}}&ref={{id}}'\n"
                     "body_encoding = \"form\"\n"
                     "dlr_status_field = \"status\"\n\"dlr_status.1\" = \"delivered\"\n"
                     "\"dlr_status.2\" = \"failed\"\ndlr_token_env = \"LOA_BENCH_DLR_TOKEN\"\n");
    std::map<std::string, std::string> env{
        {"LOA_DAEMON_DATA_DIR", campaign.data_dir},
        {"LOA_REDIS_URL", redis.unix_url()},
        {"LOA_LOG_LEVEL", "warn"},
        {"LOA_HTTP_LISTEN", "127.0.0.1:" + std::to_string(port)},
        {"LOA_BENCH_DLR_TOKEN", token},
        {"no_proxy", "127.0.0.1,localhost"}};
    const auto dispatch_start = std::chrono::steady_clock::now();
    test::LoaProcess daemon({"serve", "--config", (dir / "loa.toml").string()}, env,
                            dir / "serve.log");
    const bool all_sent = bench::wait_until(
        [&] { return bench::count_rows(campaign.data_dir, "state = 'sent'") == planned; }, 10min,
        50ms);
    const double dispatch_seconds = bench::seconds_since(dispatch_start);
    if (!all_sent || !test::becomes_ready(port)) {
      state.SkipWithError(("the campaign was not sent; see " + daemon.log()).c_str());
      return;
    }
    long long first = 0, last = 0;
    {
      SQLite::Database db(campaign.data_dir + "/loa.db", SQLite::OPEN_READONLY, 10000);
      first = db.execAndGet("SELECT MIN(id) FROM outbox").getInt64();
      last = db.execAndGet("SELECT MAX(id) FROM outbox").getInt64();
    }
    if (last - first + 1 != planned) {
      state.SkipWithError("outbox ids are not contiguous; numbered.lua needs a range");
      return;
    }
    bench::WrkLoad load;
    load.url = "http://127.0.0.1:" + std::to_string(port);
    load.method = "POST";
    // The token could equally go in the path: "/webhooks/sms/receipt?token=...".
    load.path = "/webhooks/sms/receipt";
    load.body = "id={id}&status=1&token=" + token;
    load.first = first;
    load.count = planned;
    load.threads = static_cast<int>(bench::env_or("LOA_BENCH_WRK_THREADS", 2));
    load.connections = static_cast<int>(bench::env_or("LOA_BENCH_WRK_CONNECTIONS", 32));
    state.ResumeTiming();

    const auto start = std::chrono::steady_clock::now();
    const auto run = bench::run_wrk(load);
    const bool ingested = run.ok && bench::wait_until(
        [&] { return bench::count_rows(campaign.data_dir, "state = 'delivered'") == planned; },
        5min, 20ms);
    const double ingest_seconds = bench::seconds_since(start);

    state.PauseTiming();
    const long long delivered = bench::count_rows(campaign.data_dir, "state = 'delivered'");
    daemon.signal(SIGTERM);
    daemon.wait(std::chrono::minutes(1));
    if (!run.ok) {
      state.SkipWithError(run.error.c_str());
      return;
    }
    state.counters["receipts"] = static_cast<double>(planned);
    state.counters["receipts_per_second"] = static_cast<double>(planned) / run.seconds;
    state.counters["p50_ms"] = run.p50_ms;
    state.counters["p99_ms"] = run.p99_ms;
    state.counters["max_ms"] = run.max_ms;
    state.counters["http_errors"] = static_cast<double>(run.errors);
    state.counters["ingested_receipts_per_second"] =
        ingested ? static_cast<double>(planned) / ingest_seconds : 0;
    state.counters["receipts_lost"] = static_cast<double>(planned - delivered);
    state.counters["daemon_http_messages_per_second"] =
        static_cast<double>(planned) / dispatch_seconds;
    state.ResumeTiming();
  }
}
BENCHMARK(BM_Webhooks)->Unit(benchmark::kSecond)->UseRealTime()->Iterations(1);

}  // namespace

BENCHMARK_MAIN();
