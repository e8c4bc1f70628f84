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
#include <ctime>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_future.hpp>
#include <cstdlib>
#include <fstream>
#include <map>
#include <thread>

#include "adapters/simulator.hpp"
#include "campaigns/outbox_event.hpp"
#include "engine/dispatcher.hpp"
#include "engine/rate_limiter.hpp"
#include "engine/receipt_relay.hpp"
#include "tests/bench/bench_support.hpp"
#include "tests/bench/queue_support.hpp"
#include "tests/support/loa_process.hpp"
#include "tests/support/redis_fixture.hpp"
#include "tests/support/test_dirs.hpp"

namespace {

namespace asio = boost::asio;
using namespace loa;
using namespace std::chrono_literals;

using bench::cpu_seconds;
using bench::enqueue;
using bench::env_or;
using bench::info_field;

void BM_DispatchCeiling(benchmark::State& state) {
  const long long n = env_or("LOA_BENCH_MESSAGES", 1000000);
  for (auto _ : state) {
    state.PauseTiming();
    bench::BenchRoute route;
    auto& redis = route.redis;
    auto& io = route.io;
    auto& client = route.client;
    auto& queue = *route.queue;
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

// redis-benchmark's requests/s for one command, pipelined (-P 16, 4 clients) on the unix
// socket; 0 when it fails. `randoms`: the -r keyspace for __rand_int__ (12-digit ids).
double redis_benchmark_rps(const test::PrivateRedis& redis, long long requests,
                           const std::vector<std::string>& command, long long randoms = 0) {
  test::TempDir dir;
  std::vector<std::string> argv{"redis-benchmark", "-s", redis.unix_endpoint().path,
                                "-n", std::to_string(requests), "-c", "4", "-P", "16", "--csv"};
  if (randoms > 0) argv.insert(argv.end(), {"-r", std::to_string(randoms)});
  argv.insert(argv.end(), command.begin(), command.end());
  if (bench::wait_exit(bench::spawn(argv, dir / "out"), std::chrono::minutes(10)) != 0) return 0;
  // --csv: a header line, then "<command>","<rps>",...; the command may be long.
  const std::string out = bench::read_text(dir / "out");
  const auto line = out.rfind("\n\"", out.size() >= 2 ? out.size() - 2 : 0);
  if (line == std::string::npos) return 0;
  const auto rps = out.find("\",\"", line);
  return rps == std::string::npos ? 0 : std::atof(out.c_str() + rps + 3);
}

// The limit for BM_DispatchCeiling: what Redis itself does per second with the same command
// mix when a minimal client (redis-benchmark, pipelined) drives it, on the same kind of
// private Redis (AOF on). Three phases over LOA_BENCH_MESSAGES messages in batches of 512 (the
// ceiling's batch):
//  1. pop: EVALSHA of the real engine/lua/route_pop.lua over the real queue (two campaign
//     lanes, filled by RouteQueue::enqueue as in the ceiling), until every message is leased;
//  2. settle: EVALSHA of the real engine/lua/route_complete.lua with 512 'sent' ops and the
//     512 'sent' events the dispatcher would publish. redis-benchmark can only vary ids
//     randomly (__rand_int__, 12 digits), so the payloads and leases are re-created under such
//     ids first (not timed); about 63% of the random ids hit one, the rest cost a miss;
//  3. receipts: XADD of 512 delivered events in one entry, as the receipt relay publishes.
// limit_messages_per_second = messages / (time of the three phases). redis_cpu_us_per_message
// is Redis's own CPU over the three phases (INFO), to set against the ceiling's.
void BM_RedisLimit(benchmark::State& state) {
  const long long n = env_or("LOA_BENCH_MESSAGES", 1000000);
  constexpr long long kBatch = 512;
  const long long calls = (n + kBatch - 1) / kBatch;
  auto script = [](const char* name) {
    return bench::read_text(test::source_dir() / "engine/lua" / name);
  };
  for (auto _ : state) {
    state.PauseTiming();
    bench::BenchRoute route;
    auto& redis = route.redis;
    enqueue(route.io, *route.queue, 1, n);
    route.client->close();
    const std::string pop_sha = redis.command({"SCRIPT", "LOAD", script("route_pop.lua")});
    const std::string settle_sha = redis.command({"SCRIPT", "LOAD", script("route_complete.lua")});
    auto key = [](const std::string& k) { return "loa:{bench}:" + k; };
    const double cpu0 = bench::redis_cpu_seconds(redis);
    state.ResumeTiming();

    // 1. pop
    std::vector<std::string> pop{"EVALSHA", pop_sha, "13", key("pri"), key("lanes"),
                                 key("asleep"), key("msg"), key("lease"), key("delayed"),
                                 key("sent"), engine::RateLimiter::key("bench"), key("results"),
                                 key("cancelled"), key("paused"), key("lane:1"), key("lane:2"),
                                 std::to_string(kBatch), "30000",
                                 std::to_string(std::time(nullptr)), "0", "1", "2"};
    const double pop_rps = redis_benchmark_rps(redis, calls, pop);

    state.PauseTiming();
    const long long leased = std::stoll(redis.command("ZCARD " + key("lease")));
    const double cpu_pop = bench::redis_cpu_seconds(redis);
    // Payloads and leases under redis-benchmark's random ids (000000000000 ..), as popped.
    const std::string payload = redis.command({"HGET", key("msg"), "1"});  // a real one
    redis.command({"DEL", key("msg"), key("lease")});
    const std::string fill =
        "for i = tonumber(ARGV[1]), tonumber(ARGV[2]) do local id = string.format('%012d', i) "
        "redis.call('HSET', KEYS[1], id, ARGV[3]) redis.call('ZADD', KEYS[2], ARGV[4], id) end";
    for (long long at = 0; at < n; at += 50000)
      redis.command({"EVAL", fill, "2", key("msg"), key("lease"), std::to_string(at),
                     std::to_string(std::min(n, at + 50000) - 1), payload, "9999999999999999"});
    auto events = [&](campaigns::OutboxEvent::Kind kind) {
      std::vector<campaigns::OutboxEvent> es;
      const long long now_ms = static_cast<long long>(std::time(nullptr)) * 1000;
      for (long long i = 0; i < kBatch; ++i) {
        campaigns::OutboxEvent e;
        e.kind = kind;
        e.message_id = 1000000 + i;
        e.attempts = 1;
        e.provider_id = "sim-" + std::to_string(1000000 + i);
        e.at_ms = now_ms;
        es.push_back(std::move(e));
      }
      return campaigns::encode_events(es);
    };
    std::vector<std::string> settle{"EVALSHA", settle_sha, "9", key("msg"), key("lease"),
                                    key("delayed"), key("sent"), key("results"), key("lanes"),
                                    key("asleep"), key("pri"), key("done"),
                                    events(campaigns::OutboxEvent::Kind::kSent), "86400"};
    for (long long i = 0; i < kBatch; ++i)
      settle.insert(settle.end(), {"sent", "__rand_int__", "", ""});
    const double cpu_fill = bench::redis_cpu_seconds(redis);
    state.ResumeTiming();

    // 2. settle
    const double settle_rps = redis_benchmark_rps(redis, calls, settle, n);
    // 3. receipts
    const double xadd_rps = redis_benchmark_rps(
        redis, calls, {"XADD", key("results"), "*", "e",
                       events(campaigns::OutboxEvent::Kind::kDelivered)});

    state.PauseTiming();
    const double cpu_end = bench::redis_cpu_seconds(redis);
    if (pop_rps <= 0 || settle_rps <= 0 || xadd_rps <= 0) {
      state.SkipWithError("redis-benchmark failed (is redis-tools installed?)");
      return;
    }
    if (leased != n) {
      state.SkipWithError(("the pop phase leased " + std::to_string(leased) + " of " +
                           std::to_string(n))
                              .c_str());
      return;
    }
    const double seconds = calls / pop_rps + calls / settle_rps + calls / xadd_rps;
    state.counters["limit_messages_per_second"] = static_cast<double>(n) / seconds;
    state.counters["pop_messages_per_second"] = pop_rps * kBatch;
    state.counters["settle_messages_per_second"] = settle_rps * kBatch;
    state.counters["receipt_xadd_messages_per_second"] = xadd_rps * kBatch;
    state.counters["redis_cpu_us_per_message"] =
        ((cpu_pop - cpu0) + (cpu_end - cpu_fill)) * 1e6 / static_cast<double>(n);
    state.ResumeTiming();
  }
}
BENCHMARK(BM_RedisLimit)->Unit(benchmark::kSecond)->UseRealTime()->Iterations(1);

void BM_DispatchEndToEnd(benchmark::State& state) {
  const long long n = env_or("LOA_BENCH_MESSAGES", 1000000);
  for (auto _ : state) {
    state.PauseTiming();
    test::TempDir dir;
    const auto campaign = bench::plan_campaign(
        dir, n,
        "[campaign]\nname = \"bench\"\ntemplate = \"ho_tro_bhyt\"\naudience = '*'\n"
        "channels = [\"zalo_zns\", \"sms\"]\nstart_at = \"2026-01-01\"\n"
        "end_at = \"2099-01-01\"\nquiet_hours = \"00:00-00:00\"\n",
        test::source_dir() / "ops/examples/templates.toml");
    if (!campaign.error.empty()) {
      state.SkipWithError(campaign.error.c_str());
      return;
    }
    const std::string data = campaign.data_dir;
    const long long planned = campaign.planned;
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
