#include "adapters/simulator.hpp"

#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <future>
#include <map>
#include <set>
#include <thread>

#include "templates/utf8.hpp"

namespace loa::adapters {
namespace {

namespace asio = boost::asio;
using std::chrono::milliseconds;
using namespace std::chrono_literals;

constexpr auto kWait = std::chrono::seconds(5);  // only reached when a test fails

// Records what the simulator pushes; waits for it without sleeping.
class Recorder : public GatewayEvents {
 public:
  void on_receipt(DeliveryReceipt r) override { add(receipts_, std::move(r)); }
  void on_reply(Reply r) override { add(replies_, std::move(r)); }

  // The events once there are at least n of them (fewer after kWait).
  std::vector<DeliveryReceipt> receipts(std::size_t n = 0) { return wait(receipts_, n); }
  std::vector<Reply> replies(std::size_t n = 0) { return wait(replies_, n); }

 private:
  template <class T>
  void add(std::vector<T>& v, T e) {
    {
      std::lock_guard lock(mutex_);
      v.push_back(std::move(e));
    }
    cv_.notify_all();
  }
  template <class T>
  std::vector<T> wait(std::vector<T>& v, std::size_t n) {
    std::unique_lock lock(mutex_);
    cv_.wait_for(lock, kWait, [&] { return v.size() >= n; });
    return v;
  }

  std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<DeliveryReceipt> receipts_;
  std::vector<Reply> replies_;
};

// Completes async_record later, on the io_context, optionally as a failed ledger would.
class PostingLedger : public SimulatorLedger {
 public:
  PostingLedger(asio::any_io_executor ex, bool fail) : ex_(std::move(ex)), fail_(fail) {}
  void async_record(std::vector<std::string> ids,
                    std::function<void(std::vector<long long>)> done) override {
    memory_.async_record(std::move(ids), [&](std::vector<long long> counts) {
      if (fail_) counts.clear();
      asio::post(ex_, [done = std::move(done), counts = std::move(counts)] { done(counts); });
    });
  }

 private:
  asio::any_io_executor ex_;
  bool fail_;
  MemoryLedger memory_;
};

struct Sent {
  std::vector<SendResult> results;
  bool inline_call = true;
};

std::vector<OutboundMessage> messages(const std::string& prefix, int n) {
  std::vector<OutboundMessage> batch;
  for (int i = 0; i < n; ++i) {
    OutboundMessage m;
    m.id = prefix + std::to_string(i);
    m.channel = "sms";
    m.phone = "+8491" + std::to_string(1000000 + i);
    m.body = "Kính gửi hộ gia đình";
    batch.push_back(std::move(m));
  }
  return batch;
}

std::vector<std::string> ids_of(const std::vector<OutboundMessage>& batch) {
  std::vector<std::string> ids;
  for (const auto& m : batch) ids.push_back(m.id);
  return ids;
}

// Small delays so a test takes milliseconds; every message is accepted and delivered.
SimulatorSettings fast() {
  SimulatorSettings s;
  s.latency = 5ms;
  s.receipt_delay = 10ms;
  s.reply_delay = 15ms;
  s.delivered_share = 1.0;
  s.seed = 1;
  return s;
}

std::uint64_t outcomes(const SimulatorStats& s) {
  return s.accepted + s.duplicates + s.permanent + s.unreachable + s.throttled + s.transient +
         s.closed;
}

class SimulatorTest : public ::testing::Test {
 protected:
  SimulatorTest() {
    for (int i = 0; i < 2; ++i) threads_.emplace_back([this] { io_.run(); });
  }
  ~SimulatorTest() override {
    work_.reset();
    io_.stop();
    for (auto& t : threads_) t.join();
  }

  // Sends and waits for `done`; the test thread never runs the io_context, so `done` running
  // on it means it ran inline.
  static Sent send(Gateway& g, std::vector<OutboundMessage> batch) {
    auto promise = std::make_shared<std::promise<Sent>>();
    auto future = promise->get_future();
    const auto caller = std::this_thread::get_id();
    g.async_send(std::move(batch), [promise, caller](std::vector<SendResult> results) {
      promise->set_value(Sent{std::move(results), std::this_thread::get_id() == caller});
    });
    if (future.wait_for(kWait) != std::future_status::ready) {
      ADD_FAILURE() << "done was not called";
      return {};
    }
    return future.get();
  }

  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_ = asio::make_work_guard(io_);
  std::vector<std::thread> threads_;
};

TEST_F(SimulatorTest, AnswersOnePerMessageInOrderNeverInline) {
  struct Row {
    milliseconds latency;
    int size;
  };
  for (const Row row : {Row{0ms, 1}, Row{0ms, 7}, Row{5ms, 1}, Row{5ms, 7}}) {
    SCOPED_TRACE(testing::Message() << row.latency.count() << " ms, " << row.size);
    SimulatorSettings s = fast();
    s.latency = row.latency;
    Simulator sim(io_.get_executor(), s);
    EXPECT_EQ(sim.type(), "simulator");
    auto batch = messages("m", row.size);
    Sent sent = send(sim, batch);
    EXPECT_FALSE(sent.inline_call);
    ASSERT_EQ(sent.results.size(), batch.size());
    for (std::size_t i = 0; i < batch.size(); ++i) {
      EXPECT_EQ(sent.results[i].outcome, SendClass::kAccepted);
      EXPECT_EQ(sent.results[i].provider_id, "sim-" + batch[i].id);
    }
  }
}

TEST_F(SimulatorTest, EachRateGivesItsClass) {
  struct Row {
    const char* name;
    double SimulatorSettings::*rate;  // set to 1; null: every rate stays 0
    SendClass outcome;
    const char* reason;
    std::uint64_t SimulatorStats::*counter;
  };
  const Row rows[] = {
      {"permanent", &SimulatorSettings::permanent_failure_rate, SendClass::kPermanent,
       "simulated: invalid number", &SimulatorStats::permanent},
      {"unreachable", &SimulatorSettings::unreachable_rate, SendClass::kUnreachable,
       "simulated: no Zalo account", &SimulatorStats::unreachable},
      {"throttled", &SimulatorSettings::throttled_rate, SendClass::kThrottled,
       "simulated: throttled", &SimulatorStats::throttled},
      {"transient", &SimulatorSettings::transient_failure_rate, SendClass::kRetryable,
       "simulated: timeout", &SimulatorStats::transient},
      {"none", nullptr, SendClass::kAccepted, "", &SimulatorStats::accepted},
  };
  constexpr int kMessages = 50;
  for (const Row& row : rows) {
    SCOPED_TRACE(row.name);
    SimulatorSettings s = fast();
    if (row.rate != nullptr) s.*row.rate = 1.0;
    auto ledger = std::make_shared<MemoryLedger>();
    Simulator sim(io_.get_executor(), s, ledger);
    auto batch = messages("m", kMessages);
    Sent sent = send(sim, batch);
    ASSERT_EQ(sent.results.size(), batch.size());
    for (std::size_t i = 0; i < batch.size(); ++i) {
      EXPECT_EQ(sent.results[i].outcome, row.outcome);
      EXPECT_EQ(sent.results[i].reason, row.reason);
      const bool accepted = row.outcome == SendClass::kAccepted;
      EXPECT_EQ(sent.results[i].provider_id, accepted ? "sim-" + batch[i].id : "");
    }
    SimulatorStats st = sim.stats();
    EXPECT_EQ(st.requests, std::uint64_t{kMessages});
    EXPECT_EQ(st.*row.counter, std::uint64_t{kMessages});
    EXPECT_EQ(outcomes(st), st.requests);
    EXPECT_EQ(ledger->distinct(), row.outcome == SendClass::kAccepted ? std::size_t{kMessages} : 0);
  }
}

TEST_F(SimulatorTest, TheSameSeedDrawsTheSameOutcomes) {
  SimulatorSettings s = fast();
  s.transient_failure_rate = 0.3;
  s.permanent_failure_rate = 0.2;
  s.seed = 7;
  auto classes = [&](std::uint64_t seed) {
    s.seed = seed;
    Simulator sim(io_.get_executor(), s);
    std::vector<SendClass> out;
    for (const SendResult& r : send(sim, messages("m", 100)).results) out.push_back(r.outcome);
    return out;
  };
  const auto first = classes(7);
  EXPECT_EQ(classes(7), first);
  EXPECT_NE(classes(8), first);
  EXPECT_GT(std::count(first.begin(), first.end(), SendClass::kAccepted), 20);
  EXPECT_GT(std::count(first.begin(), first.end(), SendClass::kRetryable), 10);
}

TEST_F(SimulatorTest, AResendIsAcceptedAgainWithItsProviderIdAndPushesNothing) {
  auto ledger = std::make_shared<MemoryLedger>();
  Recorder events;
  Simulator first(io_.get_executor(), fast(), ledger, &events);
  Simulator second(io_.get_executor(), fast(), ledger, &events);  // another process

  ASSERT_EQ(send(first, messages("a", 2)).results.size(), 2u);  // a0, a1
  ASSERT_EQ(events.receipts(2).size(), 2u);

  struct Row {
    Simulator* sim;
    std::vector<std::string> ids;
  };
  // a0 again; a1 again from the other simulator, and a fresh id twice in one batch.
  for (const Row& row : {Row{&first, {"a0"}}, Row{&second, {"a1", "c", "c"}}}) {
    std::vector<OutboundMessage> batch;
    for (const auto& id : row.ids) {
      OutboundMessage m;
      m.id = id;
      m.phone = "+84912345678";
      batch.push_back(m);
    }
    Sent sent = send(*row.sim, batch);
    ASSERT_EQ(sent.results.size(), row.ids.size());
    for (std::size_t i = 0; i < row.ids.size(); ++i) {
      EXPECT_EQ(sent.results[i].outcome, SendClass::kAccepted);
      EXPECT_EQ(sent.results[i].provider_id, "sim-" + row.ids[i]);
    }
  }
  // Fresh sends after the resends, on both simulators: their receipts come after any that the
  // resends might wrongly have scheduled.
  send(first, messages("z", 1));
  send(second, messages("y", 1));
  std::multiset<std::string> ids;
  for (const auto& r : events.receipts(5)) ids.insert(r.message_id);
  EXPECT_EQ(ids, (std::multiset<std::string>{"a0", "a1", "c", "y0", "z0"}));

  EXPECT_EQ(first.stats().accepted, 3u);
  EXPECT_EQ(first.stats().duplicates, 1u);
  EXPECT_EQ(second.stats().accepted, 2u);
  EXPECT_EQ(second.stats().duplicates, 2u);
  EXPECT_EQ(ledger->count("a0"), 2);
  EXPECT_EQ(ledger->count("c"), 2);
  EXPECT_EQ(ledger->count("never"), 0);
}

// A re-sent id (a dispatcher killed before it settled its batch sends it again) gets the
// answer it got the first time, from another simulator with other draws too: an id refused as
// unreachable stays unreachable (so it never falls back to SMS after Zalo took it), an
// accepted one is a duplicate. Only throttled and transient answers may change.
TEST_F(SimulatorTest, AResentIdGetsItsFirstAnswerAgain) {
  SimulatorSettings s = fast();
  s.unreachable_rate = 0.3;
  s.permanent_failure_rate = 0.2;
  auto ledger = std::make_shared<MemoryLedger>();
  auto batch = messages("r", 300);
  for (auto& m : batch) m.channel = "zalo_zns";
  s.seed = 0;  // the daemon's: random draws, in each process its own
  Simulator first(io_.get_executor(), s, ledger);
  const Sent a = send(first, batch);
  ASSERT_EQ(a.results.size(), batch.size());
  Simulator second(io_.get_executor(), s, ledger);  // another process, other draws
  const Sent b = send(second, batch);
  ASSERT_EQ(b.results.size(), batch.size());
  std::map<SendClass, int> classes;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    EXPECT_EQ(b.results[i].outcome, a.results[i].outcome) << batch[i].id;
    EXPECT_EQ(b.results[i].reason, a.results[i].reason) << batch[i].id;
    ++classes[a.results[i].outcome];
  }
  // The rates still hold over the ids (300 draws: a wide margin).
  EXPECT_GT(classes[SendClass::kUnreachable], 60);
  EXPECT_LT(classes[SendClass::kUnreachable], 120);
  EXPECT_GT(classes[SendClass::kPermanent], 35);
  EXPECT_LT(classes[SendClass::kPermanent], 85);
  EXPECT_EQ(second.stats().duplicates, static_cast<std::uint64_t>(classes[SendClass::kAccepted]));
  EXPECT_EQ(second.stats().accepted, 0u);

  // The verdict is the recipient's on one channel: the same ids on SMS are judged afresh.
  SimulatorSettings sms = s;
  sms.unreachable_rate = 0;
  sms.permanent_failure_rate = 0.2;
  auto on_sms = messages("r", 300);
  Simulator third(io_.get_executor(), sms);
  const Sent c = send(third, on_sms);
  ASSERT_EQ(c.results.size(), on_sms.size());
  int permanent_both = 0;
  for (std::size_t i = 0; i < on_sms.size(); ++i)
    permanent_both += a.results[i].outcome == SendClass::kPermanent &&
                      c.results[i].outcome == SendClass::kPermanent;
  EXPECT_LT(permanent_both, classes[SendClass::kPermanent]);
}

TEST_F(SimulatorTest, ReceiptsCarryTheIdsAndTheDeliveredShare) {
  SimulatorSettings s = fast();
  s.latency = 1ms;
  s.delivered_share = 0.97;
  s.seed = 42;
  Recorder events;
  Simulator sim(io_.get_executor(), s, nullptr, &events);
  std::set<std::string> sent_ids;
  for (int b = 0; b < 20; ++b) {
    auto batch = messages("b" + std::to_string(b) + "-", 100);
    for (auto& id : ids_of(batch)) sent_ids.insert(id);
    send(sim, std::move(batch));
  }
  auto receipts = events.receipts(2000);
  ASSERT_EQ(receipts.size(), 2000u);
  std::set<std::string> receipt_ids;
  int delivered = 0;
  for (const auto& r : receipts) {
    receipt_ids.insert(r.message_id);
    EXPECT_EQ(r.provider_id, "sim-" + r.message_id);
    EXPECT_NE(r.at, std::chrono::system_clock::time_point{});
    EXPECT_EQ(r.reason, r.delivered ? "" : "simulated: handset unreachable");
    delivered += r.delivered ? 1 : 0;
  }
  EXPECT_EQ(receipt_ids, sent_ids);
  EXPECT_GT(delivered, 1880);  // 1940 expected, standard deviation about 8
  EXPECT_LT(delivered, 1990);
  EXPECT_EQ(sim.stats().receipts, 2000u);
  EXPECT_EQ(sim.stats().replies, 0u);
}

TEST_F(SimulatorTest, RepliesComeFromTheHouseholdInVietnamese) {
  for (std::string_view text : Simulator::reply_texts()) {
    EXPECT_EQ(templates::find_invalid_utf8(text), std::string_view::npos) << text;
  }
  SimulatorSettings s = fast();
  s.reply_rate = 1.0;
  Recorder events;
  Simulator sim(io_.get_executor(), s, nullptr, &events);
  auto batch = messages("r", 30);
  for (std::size_t i = 0; i < batch.size(); i += 2) {  // every other one on Zalo OA
    batch[i].channel = "zalo_oa";
    batch[i].phone.clear();
    batch[i].zalo_user = "zu" + std::to_string(i);
  }
  std::map<std::string, OutboundMessage> by_reply_id;
  for (const auto& m : batch) by_reply_id["sim-r-" + m.id] = m;
  send(sim, batch);

  const auto texts = Simulator::reply_texts();
  std::set<std::string> seen;
  auto replies = events.replies(batch.size());
  ASSERT_EQ(replies.size(), batch.size());
  for (const auto& r : replies) {
    ASSERT_TRUE(by_reply_id.count(r.provider_id)) << r.provider_id;
    const OutboundMessage& m = by_reply_id[r.provider_id];
    EXPECT_EQ(r.from_phone, m.phone);
    EXPECT_EQ(r.from_zalo_user, m.zalo_user);
    EXPECT_NE(std::find(texts.begin(), texts.end(), r.text), texts.end()) << r.text;
    EXPECT_EQ(templates::find_invalid_utf8(r.text), std::string_view::npos);
    seen.insert(r.text);
    by_reply_id.erase(r.provider_id);  // each once
  }
  EXPECT_GT(seen.size(), 2u);
  EXPECT_EQ(sim.stats().replies, batch.size());
}

TEST_F(SimulatorTest, CloseRefusesLaterSendsAndDropsPendingPushes) {
  SimulatorSettings s = fast();
  s.receipt_delay = 40ms;
  s.reply_rate = 1.0;
  s.reply_delay = 40ms;
  Recorder events;
  Simulator sim(io_.get_executor(), s, nullptr, &events);
  ASSERT_EQ(send(sim, messages("m", 3)).results.size(), 3u);
  sim.close();
  // Normally none yet; on a loaded machine some may have come before close().
  const std::size_t receipts = events.receipts().size(), replies = events.replies().size();
  sim.close();  // idempotent

  Sent sent = send(sim, messages("late", 2));
  EXPECT_FALSE(sent.inline_call);
  ASSERT_EQ(sent.results.size(), 2u);
  for (const auto& r : sent.results) {
    EXPECT_EQ(r.outcome, SendClass::kRetryable);
    EXPECT_EQ(r.reason, "closed");
  }
  std::this_thread::sleep_for(60ms);  // past the dropped receipts' and replies' time
  EXPECT_EQ(events.receipts().size(), receipts);
  EXPECT_EQ(events.replies().size(), replies);
  const SimulatorStats st = sim.stats();
  EXPECT_EQ(st.receipts, receipts);
  EXPECT_EQ(st.replies, replies);
  EXPECT_EQ(st.closed, 2u);
  EXPECT_EQ(outcomes(st), st.requests);
}

TEST_F(SimulatorTest, CloseAnswersSendsWaitingOutTheirLatency) {
  SimulatorSettings s = fast();
  s.latency = std::chrono::seconds(10);
  Simulator sim(io_.get_executor(), s);
  auto result = std::async(std::launch::async, [&] { return send(sim, messages("m", 4)); });
  while (sim.stats().requests == 0) std::this_thread::yield();
  sim.close();
  ASSERT_EQ(result.wait_for(kWait), std::future_status::ready);
  for (const auto& r : result.get().results) EXPECT_EQ(r.reason, "closed");
}

TEST_F(SimulatorTest, NothingIsPushedAfterDestruction) {
  SimulatorSettings s = fast();
  s.receipt_delay = 20ms;
  s.reply_rate = 1.0;
  s.reply_delay = 20ms;
  auto events = std::make_unique<Recorder>();
  auto sim = std::make_unique<Simulator>(io_.get_executor(), s, nullptr, events.get());
  send(*sim, messages("m", 10));
  sim.reset();
  events.reset();  // a push now would be a use after free, which ASan reports
  // The scenario: past the receipts' and replies' time, when such a push would have come.
  std::this_thread::sleep_for(40ms);
}

TEST_F(SimulatorTest, ALedgerMayAnswerLaterOrFail) {
  for (const bool fail : {false, true}) {
    SCOPED_TRACE(fail ? "failing" : "later");
    auto ledger = std::make_shared<PostingLedger>(io_.get_executor(), fail);
    Recorder events;
    Simulator sim(io_.get_executor(), fast(), ledger, &events);
    Sent sent = send(sim, messages("m", 3));
    ASSERT_EQ(sent.results.size(), 3u);
    for (const auto& r : sent.results) {
      EXPECT_EQ(r.outcome, fail ? SendClass::kRetryable : SendClass::kAccepted);
      EXPECT_EQ(r.reason, fail ? "simulated: ledger unavailable" : "");
    }
    if (!fail) {
      EXPECT_EQ(events.receipts(3).size(), 3u);
    }
    EXPECT_EQ(outcomes(sim.stats()), 3u);
  }
}

TEST_F(SimulatorTest, ConcurrentSendsAndCloseAnswerEveryMessageOnce) {
  SimulatorSettings s = fast();
  s.latency = 1ms;
  s.receipt_delay = 1ms;
  s.reply_rate = 0.5;
  s.reply_delay = 1ms;
  s.transient_failure_rate = 0.2;
  Recorder events;
  Simulator sim(io_.get_executor(), s, nullptr, &events);
  constexpr int kThreads = 4, kBatches = 25, kSize = 4;
  std::mutex mutex;
  std::condition_variable cv;
  int done = 0;
  std::size_t answered = 0;
  std::vector<std::thread> senders;
  for (int t = 0; t < kThreads; ++t) {
    senders.emplace_back([&, t] {
      for (int b = 0; b < kBatches; ++b) {
        if (t == 0 && b == kBatches / 2) sim.close();
        sim.async_send(messages(std::to_string(t) + "-" + std::to_string(b) + "-", kSize),
                       [&](std::vector<SendResult> results) {
                         std::lock_guard lock(mutex);
                         ++done;
                         answered += results.size();
                         cv.notify_all();
                       });
      }
    });
  }
  for (auto& t : senders) t.join();
  std::unique_lock lock(mutex);
  ASSERT_TRUE(cv.wait_for(lock, kWait, [&] { return done == kThreads * kBatches; }));
  EXPECT_EQ(answered, std::size_t{kThreads * kBatches * kSize});
  const SimulatorStats st = sim.stats();
  EXPECT_EQ(st.requests, answered);
  EXPECT_EQ(outcomes(st), st.requests);
  EXPECT_GT(st.closed, 0u);
}

TEST(MemoryLedger, CountsEveryRecordUnderConcurrency) {
  MemoryLedger ledger;
  constexpr int kThreads = 4, kCalls = 1000;
  std::mutex mutex;
  std::vector<long long> shared_counts;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kCalls; ++i) {
        const std::string own = std::to_string(t) + "-" + std::to_string(i);
        ledger.async_record({"shared", own}, [&](std::vector<long long> counts) {
          ASSERT_EQ(counts.size(), 2u);
          EXPECT_EQ(counts[1], 1);
          std::lock_guard lock(mutex);
          shared_counts.push_back(counts[0]);
        });
        if (i % 100 == 0) {
          EXPECT_GE(ledger.count("shared"), 1);
          EXPECT_GE(ledger.distinct(), 2u);
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ledger.count("shared"), kThreads * kCalls);
  EXPECT_EQ(ledger.distinct(), std::size_t{kThreads * kCalls + 1});
  std::sort(shared_counts.begin(), shared_counts.end());  // each count handed out once
  for (std::size_t i = 0; i < shared_counts.size(); ++i) {
    EXPECT_EQ(shared_counts[i], static_cast<long long>(i + 1));
  }
}

TEST(SimulatorSettingsTest, InvalidSettingsThrow) {
  struct Row {
    const char* name;
    void (*spoil)(SimulatorSettings&);
  };
  const Row rows[] = {
      {"negative rate", [](SimulatorSettings& s) { s.throttled_rate = -0.1; }},
      {"rate above 1", [](SimulatorSettings& s) { s.reply_rate = 1.5; }},
      {"failures above 1",
       [](SimulatorSettings& s) { s.permanent_failure_rate = s.transient_failure_rate = 0.6; }},
      {"delivered share", [](SimulatorSettings& s) { s.delivered_share = 2; }},
      {"negative latency", [](SimulatorSettings& s) { s.latency = milliseconds(-1); }},
  };
  asio::io_context io;
  for (const Row& row : rows) {
    SimulatorSettings s;
    row.spoil(s);
    EXPECT_THROW(Simulator(io.get_executor(), s), std::invalid_argument) << row.name;
  }
  EXPECT_NO_THROW(Simulator(io.get_executor(), SimulatorSettings{}));
}

}  // namespace
}  // namespace loa::adapters
