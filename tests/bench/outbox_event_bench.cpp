// The store side of the results stream: decode the stream entries and apply their events to a
// real, migrated outbox of LOA_BENCH_MESSAGES rows (default 1,000,000), one transaction per
// read of 64 entries, as engine/result_consumer.hpp does through the store writer (with its
// prepared statements kept). Target: at least 100,000 events/s.
//
//   BM_ApplyResults             entries of 50 events: every message sent, then delivered
//   BM_ApplyResultsSmallEntries entries of 1 event (a dispatcher that publishes at once)
#include <benchmark/benchmark.h>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>
#include <cstdlib>
#include <string>
#include <vector>

#include "campaigns/outbox_event.hpp"
#include "engine/store.hpp"
#include "tests/support/test_dirs.hpp"

namespace {

using loa::campaigns::OutboxEvent;
constexpr int kEntriesPerRead = 64;  // ResultConsumer::kReadCount

long messages_wanted() {
  const char* env = std::getenv("LOA_BENCH_MESSAGES");
  return env ? std::atol(env) : 1000000;
}

struct Store {
  loa::test::TempDir dir;
  SQLite::Database db = loa::engine::open_store(dir / "loa.db", loa::engine::StoreMode::kReadWrite);
  Store() {
    loa::engine::migrate(db);
    db.exec(
        "INSERT INTO campaigns(id, name, template_key, channels, start_at, end_at, state) "
        "VALUES (1, 'bench', 't', 'sms', '2026-12-01T08:00:00+07:00', "
        "'2026-12-31T20:00:00+07:00', 'running');"
        "INSERT INTO rounds(id, campaign_id, number, due_at) VALUES (1, 1, 1, '2026-12-01')");
    SQLite::Transaction tx(db);
    SQLite::Statement hh(db, "INSERT INTO households(id, phone_e164) VALUES (?, ?)");
    SQLite::Statement ob(
        db,
        "INSERT INTO outbox(id, round_id, campaign_id, household_id, phone_e164, channel, route, "
        "language, body, units, cost_vnd, state, expires_at, created_at, updated_at) VALUES "
        "(?1, 1, 1, ?1, ?2, 'sms', 'sms', 'vi', 'Kính gửi hộ gia đình: thông tin về thẻ BHYT', "
        "1, 800, 'queued', '2026-12-31T20:00:00+07:00', '2026-12-01T08:00:00+07:00', "
        "'2026-12-01T08:00:00+07:00')");
    for (long id = 1; id <= messages_wanted(); ++id) {
      const std::string phone = "+849" + std::to_string(10000000 + id);
      hh.bind(1, static_cast<std::int64_t>(id));
      hh.bind(2, phone);
      hh.exec();
      hh.reset();
      ob.bind(1, static_cast<std::int64_t>(id));
      ob.bind(2, phone);
      ob.exec();
      ob.reset();
    }
    tx.commit();
  }
};

// Built once for every benchmark of the program; destroyed at exit with its temp dir.
Store& store() {
  static Store s;
  return s;
}

// The stream entries a dispatcher would publish for every message, `per_entry` events each.
std::vector<std::string> entries(OutboxEvent::Kind kind, int per_entry) {
  std::vector<std::string> out;
  std::vector<OutboxEvent> batch;
  for (long id = 1; id <= messages_wanted(); ++id) {
    OutboxEvent e;
    e.kind = kind;
    e.message_id = id;
    e.attempts = 1;
    e.at_ms = 1796083200000 + id;
    e.provider_id = "esms-" + std::to_string(id);
    batch.push_back(std::move(e));
    if (static_cast<int>(batch.size()) == per_entry) {
      out.push_back(loa::campaigns::encode_events(batch));
      batch.clear();
    }
  }
  if (!batch.empty()) out.push_back(loa::campaigns::encode_events(batch));
  return out;
}

// Decodes and applies `wire`, one transaction per read; returns the rows changed.
long apply(SQLite::Database& db, loa::campaigns::OutboxEventApplier& applier,
           const std::vector<std::string>& wire) {
  long changed = 0;
  for (std::size_t from = 0; from < wire.size(); from += kEntriesPerRead) {
    std::vector<OutboxEvent> events;
    for (std::size_t i = from; i < std::min(wire.size(), from + kEntriesPerRead); ++i) {
      auto decoded = loa::campaigns::decode_events(wire[i]);
      events.insert(events.end(), decoded.begin(), decoded.end());
    }
    SQLite::Transaction tx(db, SQLite::TransactionBehavior::IMMEDIATE);
    changed += applier.apply(events);
    tx.commit();
  }
  return changed;
}

void run(benchmark::State& state, int per_entry) {
  Store& s = store();
  const auto sent = entries(OutboxEvent::Kind::kSent, per_entry);
  const auto delivered = entries(OutboxEvent::Kind::kDelivered, per_entry);
  long events = 0;
  for (auto _ : state) {
    state.PauseTiming();
    s.db.exec("UPDATE outbox SET state = 'queued', sent_at = NULL, delivered_at = NULL");
    loa::campaigns::OutboxEventApplier applier(s.db);
    state.ResumeTiming();
    const long changed = apply(s.db, applier, sent) + apply(s.db, applier, delivered);
    if (changed != 2 * messages_wanted()) state.SkipWithError("not every event applied");
    events += 2 * messages_wanted();
  }
  state.counters["events"] = static_cast<double>(2 * messages_wanted());
  state.counters["events_per_second"] =
      benchmark::Counter(static_cast<double>(events), benchmark::Counter::kIsRate);
}

void BM_ApplyResults(benchmark::State& state) { run(state, 50); }
void BM_ApplyResultsSmallEntries(benchmark::State& state) { run(state, 1); }

BENCHMARK(BM_ApplyResults)->Unit(benchmark::kSecond)->Iterations(1)->UseRealTime();
BENCHMARK(BM_ApplyResultsSmallEntries)->Unit(benchmark::kSecond)->Iterations(1)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
