// Dispatch through Redis (issue [5/10]).
//
// BM_DispatchCeiling: LOA_BENCH_MESSAGES (default 1,000,000) messages are enqueued into one
// route of a private redis-server (AOF on, as in the embedded mode), then one in-process
// dispatcher drains them through the simulator with no rate limit: pop with lease, dispatch
// checks, send, settle, outcomes to the results stream, and delivery receipts published.
// Reports messages/s of the drain, CPU µs per message for loa (this process) and for Redis
// (INFO cpu), and Redis commands per message (INFO stats; a Lua script counts as one).
//
// BM_DispatchEndToEnd: the real daemon. LOA_BENCH_MESSAGES households (a clean generated
// list) and a campaign over all of them are expanded into the outbox first (not timed); then
// `loa serve` (role all, no rate limit, simulator without failures, receipts after 100 ms)
// runs on an external private Redis until the outbox has nothing planned or queued: enqueue,
// dispatch, results back into SQLite. Reports messages/s, CPU µs per message for the loa
// process (wait4) and for Redis (INFO cpu), and Redis commands per message.
//
// BM_LimiterAccuracy: two `loa serve --role dispatcher` processes share one route limited to
// 100 segments/s for LOA_BENCH_LIMITER_SECONDS (default 60); messages cost 1 or 2 segments.
// Reports the observed rate (segments/s, from the sends' timestamps) and the worst 1-second
// window, which should not exceed the limit plus one message's cost.
#include <SQLiteCpp/Database.h>
#include <benchmark/benchmark.h>
#include <signal.h>
#include <sys/resource.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_future.hpp>
#include <cstdlib>
#include <fstream>
#include <map>
#include <thread>

#include "adapters/simulator.hpp"
#include "campaigns/outbox_event.hpp"
#include "engine/dispatcher.hpp"
#include "engine/receipt_relay.hpp"
#include "tests/support/loa_process.hpp"
#include "tests/support/redis_fixture.hpp"
#include "tests/support/test_dirs.hpp"

namespace {

namespace asio = boost::asio;
using namespace loa;
using namespace std::chrono_literals;

long env_or(const char* name, long fallback) {
  const char* v = std::getenv(name);
  return v ? std::atol(v) : fallback;
}

double cpu_seconds() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

double info_field(const test::PrivateRedis& redis, const std::string& section,
                  const std::string& field) {
  const std::string info = redis.command("INFO " + section);
  const auto at = info.find(field + ":");
  if (at == std::string::npos) return 0;
  return std::atof(info.c_str() + at + field.size() + 1);
}

engine::QueuedMessage message(long long id) {
  engine::QueuedMessage m;
  m.id = id;
  m.campaign_id = 1 + id % 2;  // two campaigns share the route
  m.household_id = id;
  m.channel = "sms";
  m.phone = "+849" + std::to_string(10000000 + id % 89999999);
  m.expires_at = 4102444800;
  m.quiet_hours = "";
  m.body =
      "Ho tro BHYT 2026: ho ngheo, can ngheo duoc ho tro 100% muc dong. Lien he can bo xa "
      "hoac goi 0262 3852 xxx.";
  return m;
}

void enqueue(test::IoThreads& io, engine::RouteQueue& queue, long long first, long long n,
             int cost_pattern = 0) {
  constexpr long long kChunk = 5000;
  for (long long at = 0; at < n; at += kChunk) {
    std::vector<engine::QueuedMessage> ms;
    for (long long i = at; i < std::min(n, at + kChunk); ++i) {
      ms.push_back(message(first + i));
      if (cost_pattern) ms.back().units = 1 + static_cast<int>(i % 2);
    }
    auto [ec, count] = asio::co_spawn(io.io(), queue.enqueue(std::move(ms)), asio::use_future).get();
    if (ec) std::abort();
  }
}

void BM_DispatchCeiling(benchmark::State& state) {
  const long long n = env_or("LOA_BENCH_MESSAGES", 1000000);
  for (auto _ : state) {
    state.PauseTiming();
    test::PrivateRedis redis(/*appendonly=*/true);
    test::IoThreads io(2);
    engine::RedisClientOptions o;
    o.endpoint = redis.unix_endpoint();
    o.max_pending = 1000000;
    auto client = engine::RedisClient::create(io.io(), o);
    client->start();
    engine::RouteQueue queue(client, "bench");
    if (asio::co_spawn(io.io(), queue.set_rate(0, 1), asio::use_future).get()) std::abort();
    const auto enqueue_start = std::chrono::steady_clock::now();
    enqueue(io, queue, 1, n);
    const double enqueue_s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - enqueue_start).count();

    engine::ReceiptRelay relay(io.io(), client, "bench");
    adapters::SimulatorSettings sim;
    sim.receipt_delay = 200ms;
    sim.delivered_share = 1.0;
    auto gateway = std::make_shared<adapters::Simulator>(io.io().get_executor(), sim);
    engine::DispatcherSettings ds;
    ds.batch = 512;
    ds.workers = 4;
    ds.results_backlog = 0;
    ds.idle = 5ms;
    engine::SystemClock clock;
    engine::Dispatcher dispatcher(io.io(), client, "bench", gateway, ds, clock);
    const double redis_cpu0 = info_field(redis, "cpu", "used_cpu_user") +
                              info_field(redis, "cpu", "used_cpu_sys");
    const double redis_cmds0 = info_field(redis, "stats", "total_commands_processed");
    const double cpu0 = cpu_seconds();
    state.ResumeTiming();

    const auto start = std::chrono::steady_clock::now();
    relay.start();
    dispatcher.start();
    while (std::stoll(redis.command("HLEN loa:{bench}:msg")) > 0) std::this_thread::sleep_for(5ms);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

    state.PauseTiming();
    const double cpu = cpu_seconds() - cpu0;
    const double redis_cpu = info_field(redis, "cpu", "used_cpu_user") +
                             info_field(redis, "cpu", "used_cpu_sys") - redis_cpu0;
    const double redis_cmds = info_field(redis, "stats", "total_commands_processed") - redis_cmds0;
    dispatcher.stop();
    gateway->close();
    relay.stop();
    client->close();
    if (dispatcher.stats().sent != n) std::abort();
    state.counters["messages_per_second"] = static_cast<double>(n) / seconds;
    state.counters["enqueue_per_second"] = static_cast<double>(n) / enqueue_s;
    state.counters["loa_cpu_us_per_message"] = cpu * 1e6 / static_cast<double>(n);
    state.counters["redis_cpu_us_per_message"] = redis_cpu * 1e6 / static_cast<double>(n);
    state.counters["redis_commands_per_message"] = redis_cmds / static_cast<double>(n);
    state.ResumeTiming();
  }
}
BENCHMARK(BM_DispatchCeiling)->Unit(benchmark::kSecond)->UseRealTime()->Iterations(1);

void BM_DispatchEndToEnd(benchmark::State& state) {
  const long long n = env_or("LOA_BENCH_MESSAGES", 1000000);
  for (auto _ : state) {
    state.PauseTiming();
    test::TempDir dir;
    const std::string data = (dir / "data").string();
    const std::string cli = "LOA_LOG_LEVEL=warn LOA_DAEMON_DATA_DIR=" + data + " " +
                            test::loa_binary().string() + " ";
    const std::string list = "/tmp/loa-bench-households-" + std::to_string(n) + ".csv";
    if (!std::filesystem::exists(list) &&
        std::system(("python3 " + (test::fixtures_dir() / "gen_households.py").string() +
                     " --clean --rows " + std::to_string(n) + " > " + list)
                        .c_str()) != 0)
      std::abort();
    std::ofstream(dir / "c.toml")
        << "[campaign]\nname = \"bench\"\ntemplate = \"ho_tro_bhyt\"\naudience = '*'\n"
           "channels = [\"zalo_zns\", \"sms\"]\nstart_at = \"2026-01-01\"\n"
           "end_at = \"2099-01-01\"\nquiet_hours = \"00:00-00:00\"\n";
    const std::string templates = (test::source_dir() / "ops/examples/templates.toml").string();
    for (const std::string& args :
         {"templates load " + templates, "contacts import " + list,
          "campaign create " + (dir / "c.toml").string(), std::string("campaign launch bench")})
      if (std::system((cli + args + " > /dev/null").c_str()) != 0) {
        state.SkipWithError(("set-up failed: loa " + args).c_str());
        return;
      }
    long long planned = 0;
    {
      SQLite::Database db(data + "/loa.db", SQLite::OPEN_READONLY);
      planned = db.execAndGet("SELECT COUNT(*) FROM outbox WHERE state = 'planned'").getInt64();
    }
    test::PrivateRedis redis(/*appendonly=*/true);
    const double redis_cpu0 = info_field(redis, "cpu", "used_cpu_user") +
                              info_field(redis, "cpu", "used_cpu_sys");
    const double redis_cmds0 = info_field(redis, "stats", "total_commands_processed");
    std::map<std::string, std::string> env{
        {"LOA_DAEMON_DATA_DIR", data},
        {"LOA_REDIS_URL", redis.unix_url()},
        {"LOA_LOG_LEVEL", "warn"},
        // The simulator's idempotency ledger stands for the gateway's own; keep it out of
        // loa's Redis figures.
        {"LOA_DISPATCHER_SIMULATOR_LEDGER", "memory"},
        {"LOA_HTTP_LISTEN", "127.0.0.1:" + std::to_string(test::free_port())}};
    for (const char* route : {"SMS", "ZALO_ZNS", "ZALO_OA"}) {
      const std::string p = std::string("LOA_ROUTES_") + route;
      env[p + "_RATE_PER_SECOND"] = "0";
      env[p + "_SIMULATOR_LATENCY_MS"] = "0";
      env[p + "_SIMULATOR_RECEIPT_DELAY_MS"] = "100";
      env[p + "_SIMULATOR_TRANSIENT_FAILURE_RATE"] = "0";
      env[p + "_SIMULATOR_PERMANENT_FAILURE_RATE"] = "0";
      env[p + "_SIMULATOR_REPLY_RATE"] = "0";
      env[p + "_SIMULATOR_DELIVERED_SHARE"] = "1";
    }
    state.ResumeTiming();

    const auto start = std::chrono::steady_clock::now();
    test::LoaProcess daemon({"serve"}, env, dir / "serve.log");
    SQLite::Database db(data + "/loa.db", SQLite::OPEN_READONLY, 10000);
    for (;;) {
      std::this_thread::sleep_for(50ms);
      const long long left = db.execAndGet(
                                   "SELECT COUNT(*) FROM outbox WHERE state IN ('planned', "
                                   "'queued')")
                                 .getInt64();
      if (left == 0) break;
      if (std::chrono::steady_clock::now() - start > 30min) {
        state.SkipWithError(("the outbox did not drain; see " + (dir / "serve.log").string()).c_str());
        return;
      }
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

    state.PauseTiming();
    const double redis_cpu = info_field(redis, "cpu", "used_cpu_user") +
                             info_field(redis, "cpu", "used_cpu_sys") - redis_cpu0;
    const double redis_cmds = info_field(redis, "stats", "total_commands_processed") - redis_cmds0;
    daemon.signal(SIGTERM);
    if (daemon.wait(std::chrono::minutes(2)) != 0) {
      state.SkipWithError(("loa serve did not stop cleanly: " + daemon.log()).c_str());
      return;
    }
    const rusage& usage = daemon.usage();
    const double cpu = static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
                       static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
    const long long sent =
        db.execAndGet("SELECT COUNT(*) FROM outbox WHERE state IN ('sent', 'delivered')").getInt64();
    if (sent != planned) {
      state.SkipWithError(("sent " + std::to_string(sent) + " of " + std::to_string(planned)).c_str());
      return;
    }
    state.counters["messages"] = static_cast<double>(planned);
    state.counters["messages_per_second"] = static_cast<double>(planned) / seconds;
    state.counters["loa_cpu_us_per_message"] = cpu * 1e6 / static_cast<double>(planned);
    state.counters["redis_cpu_us_per_message"] = redis_cpu * 1e6 / static_cast<double>(planned);
    state.counters["redis_commands_per_message"] = redis_cmds / static_cast<double>(planned);
    state.counters["peak_rss_mb"] = static_cast<double>(usage.ru_maxrss) / 1024.0;
    state.ResumeTiming();
  }
}
BENCHMARK(BM_DispatchEndToEnd)->Unit(benchmark::kSecond)->UseRealTime()->Iterations(1);

void BM_LimiterAccuracy(benchmark::State& state) {
  const long seconds = env_or("LOA_BENCH_LIMITER_SECONDS", 60);
  constexpr int kRate = 100;
  for (auto _ : state) {
    state.PauseTiming();
    test::TempDir dir;
    test::PrivateRedis redis;
    test::IoThreads io(2);
    engine::RedisClientOptions o;
    o.endpoint = redis.unix_endpoint();
    auto client = engine::RedisClient::create(io.io(), o);
    client->start();
    engine::RouteQueue queue(client, "sms");
    // Burst 2: the largest message's cost, so a dispatcher that comes a little late loses no
    // time, and a 1-second window still stays within the limit plus one message.
    if (asio::co_spawn(io.io(), queue.set_rate(kRate, 2), asio::use_future).get()) std::abort();
    const long long n = kRate * seconds;  // more than the limit lets through in the time
    enqueue(io, queue, 1, n, /*cost_pattern=*/1);
    std::map<std::string, std::string> env{
        {"LOA_REDIS_URL", redis.unix_url()},
        {"LOA_LOG_LEVEL", "warn"},
        {"LOA_DAEMON_THREADS", "2"},
        {"LOA_ROUTES_SMS_RATE_PER_SECOND", std::to_string(kRate)},
        {"LOA_ROUTES_SMS_BURST", "2"},
        {"LOA_ROUTES_SMS_SIMULATOR_LATENCY_MS", "0"},
        {"LOA_ROUTES_SMS_SIMULATOR_TRANSIENT_FAILURE_RATE", "0"},
        {"LOA_ROUTES_SMS_SIMULATOR_PERMANENT_FAILURE_RATE", "0"},
        {"LOA_ROUTES_SMS_SIMULATOR_REPLY_RATE", "0"}};
    std::vector<std::unique_ptr<test::LoaProcess>> procs;
    for (const char* name : {"a", "b"}) {
      auto e = env;
      e["LOA_DAEMON_DATA_DIR"] = (dir / name).string();
      e["LOA_HTTP_LISTEN"] = "127.0.0.1:" + std::to_string(test::free_port());
      procs.push_back(std::make_unique<test::LoaProcess>(
          std::vector<std::string>{"serve", "--role", "dispatcher"}, e, dir / (std::string(name) + ".log")));
    }
    state.ResumeTiming();
    std::this_thread::sleep_for(std::chrono::seconds(seconds));
    state.PauseTiming();
    for (auto& p : procs) p->signal(SIGTERM);
    for (auto& p : procs) p->wait();
    // Sends, by time, with their cost (id parity gives the cost, as enqueued).
    std::vector<std::pair<long long, int>> sends;
    auto r = client->async_exec({"XRANGE", "loa:{sms}:results", "-", "+"}, asio::use_future).get();
    for (const auto& entry : r.elements)
      for (const auto& e : campaigns::decode_events(entry.elements[1].elements[1].str))
        if (e.kind == campaigns::OutboxEvent::Kind::kSent)
          sends.emplace_back(e.at_ms, 1 + static_cast<int>((e.message_id - 1) % 2));
    client->close();
    std::sort(sends.begin(), sends.end());
    if (sends.size() < 10) std::abort();
    // The observed rate: units after the first send over the time to the last.
    long long units = 0;
    for (std::size_t i = 1; i < sends.size(); ++i) units += sends[i].second;
    const double span = static_cast<double>(sends.back().first - sends.front().first) / 1000.0;
    long long worst = 0, window = 0;
    for (std::size_t lo = 0, hi = 0; hi < sends.size(); ++hi) {
      window += sends[hi].second;
      while (sends[hi].first - sends[lo].first >= 1000) window -= sends[lo++].second;
      worst = std::max(worst, window);
    }
    state.counters["observed_segments_per_second"] = static_cast<double>(units) / span;
    state.counters["rate_error_percent"] =
        (static_cast<double>(units) / span - kRate) * 100.0 / kRate;
    state.counters["worst_1s_window_segments"] = static_cast<double>(worst);
    state.counters["limit_plus_one_message"] = kRate + 2;
    state.ResumeTiming();
  }
}
BENCHMARK(BM_LimiterAccuracy)->Unit(benchmark::kSecond)->UseRealTime()->Iterations(1);

}  // namespace

BENCHMARK_MAIN();
