// The store on real SQLite files: migrations and the batching writer.
#include <SQLiteCpp/Statement.h>
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <memory>
#include <thread>
#include <vector>

#include "engine/store.hpp"
#include "engine/store_writer.hpp"
#include "tests/support/test_dirs.hpp"
#include "tests/support/wait_until.hpp"

namespace loa::engine {
namespace {

using loa::test::TempDir;

TEST(StoreTest, OpensInWalModeWithNormalSync) {
  TempDir dir;
  auto db = open_store(dir / "loa.db", StoreMode::kReadWrite);
  EXPECT_EQ(db.execAndGet("PRAGMA journal_mode").getString(), "wal");
  EXPECT_EQ(db.execAndGet("PRAGMA synchronous").getInt(), 1);  // NORMAL
  EXPECT_EQ(db.execAndGet("PRAGMA foreign_keys").getInt(), 1);
}

TEST(StoreTest, MigrationsAreNamedAndOrdered) {
  auto all = migrations();
  ASSERT_FALSE(all.empty());
  EXPECT_EQ(all.front().version, 1);
  for (std::size_t i = 1; i < all.size(); ++i) EXPECT_LT(all[i - 1].version, all[i].version);
}

TEST(StoreTest, MigratingTwiceIsANoOp) {
  TempDir dir;
  auto db = open_store(dir / "loa.db", StoreMode::kReadWrite);
  auto first = migrate(db);
  EXPECT_EQ(first.from_version, 0);
  EXPECT_EQ(first.to_version, migrations().back().version);
  EXPECT_EQ(first.applied.size(), migrations().size());
  EXPECT_TRUE(db.tableExists("audit_log"));

  auto second = migrate(db);
  EXPECT_TRUE(second.applied.empty());
  EXPECT_EQ(second.from_version, first.to_version);
  EXPECT_EQ(second.to_version, first.to_version);
  EXPECT_EQ(db.execAndGet("SELECT COUNT(*) FROM schema_migrations").getInt(),
            static_cast<int>(migrations().size()));
}

TEST(StoreTest, RefusesAStoreFromANewerLoa) {
  TempDir dir;
  auto db = open_store(dir / "loa.db", StoreMode::kReadWrite);
  migrate(db);
  db.exec("INSERT INTO schema_migrations(version, name) VALUES (9999, '9999_future')");
  EXPECT_THROW(migrate(db), StoreError);
}

TEST(StoreTest, MissingDirectoryIsAClearError) {
  try {
    open_store("/nonexistent-dir/x/loa.db", StoreMode::kReadWrite);
    ADD_FAILURE() << "opened a store in a missing directory";
  } catch (const StoreError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent-dir/x/loa.db"), std::string::npos);
  }
}

class StoreWriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = open_store(path_, StoreMode::kReadWrite);
    migrate(db);
    db.exec("CREATE TABLE t (n INTEGER NOT NULL UNIQUE)");
  }
  StoreWrite insert(int n, std::function<void(bool, const std::string&)> done = nullptr) {
    return {[n](SQLite::Database& db) {
              SQLite::Statement st(db, "INSERT INTO t(n) VALUES (?)");
              st.bind(1, n);
              st.exec();
            },
            std::move(done)};
  }
  int count() {
    auto db = open_store(path_, StoreMode::kReadOnly);
    return db.execAndGet("SELECT COUNT(*) FROM t").getInt();
  }
  TempDir dir_;
  std::filesystem::path path_ = dir_ / "loa.db";
};

TEST_F(StoreWriterTest, CommitsInBatchesAndFlushes) {
  StoreConfig config;
  config.batch_rows = 100;
  config.batch_ms = 1000;
  StoreWriter writer(path_, config);
  writer.start();
  for (int i = 0; i < 1000; ++i) writer.submit(insert(i));
  writer.flush();
  EXPECT_EQ(count(), 1000);
  EXPECT_EQ(writer.committed(), 1000u);
  // Batches of up to 100: far fewer commits than writes.
  EXPECT_LE(writer.batches(), 20u);
  EXPECT_GE(writer.batches(), 10u);
}

TEST_F(StoreWriterTest, CommitsAPartialBatchAfterTheWindow) {
  StoreConfig config;
  config.batch_rows = 1000;
  config.batch_ms = 20;
  StoreWriter writer(path_, config);
  writer.start();
  std::promise<bool> committed;
  writer.submit(insert(1, [&](bool ok, const std::string&) { committed.set_value(ok); }));
  auto f = committed.get_future();
  ASSERT_EQ(f.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  EXPECT_TRUE(f.get());
  EXPECT_EQ(count(), 1);
}

TEST_F(StoreWriterTest, OneBadWriteDoesNotTakeItsBatchDown) {
  StoreConfig config;
  config.batch_rows = 50;
  StoreWriter writer(path_, config);
  writer.start();
  std::atomic<int> failures{0};
  std::string last_error;
  for (int i = 0; i < 10; ++i) writer.submit(insert(i));
  writer.submit(insert(5, [&](bool ok, const std::string& e) {  // duplicate: UNIQUE fails
    if (!ok) {
      ++failures;
      last_error = e;
    }
  }));
  for (int i = 10; i < 20; ++i) writer.submit(insert(i));
  writer.flush();
  EXPECT_EQ(count(), 20);
  EXPECT_EQ(failures.load(), 1);
  EXPECT_NE(last_error.find("UNIQUE"), std::string::npos) << last_error;
  EXPECT_EQ(writer.failed(), 1u);
}

TEST_F(StoreWriterTest, QueueIsBoundedAndPushesBack) {
  StoreConfig config;
  config.queue_capacity = 4;
  config.batch_rows = 1;
  StoreWriter writer(path_, config);
  writer.start();
  std::promise<void> release;
  auto gate = release.get_future().share();
  // The first write holds the writer thread, so the queue fills up behind it.
  writer.submit({[gate](SQLite::Database&) { gate.wait(); }, nullptr});
  ASSERT_TRUE(test::wait_until([&] { return writer.queued() == 0; }));  // the writer holds it
  int accepted = 0;
  for (int i = 0; i < 10; ++i) accepted += writer.try_submit(insert(i)) ? 1 : 0;
  EXPECT_EQ(accepted, 4);
  EXPECT_EQ(writer.queued(), 4u);
  release.set_value();
  writer.flush();
  EXPECT_EQ(count(), 4);
}

TEST_F(StoreWriterTest, StopDrainsEverything) {
  StoreConfig config;
  config.batch_ms = 1000;
  config.batch_rows = 10000;
  {
    StoreWriter writer(path_, config);
    writer.start();
    for (int i = 0; i < 500; ++i) writer.submit(insert(i));
    writer.stop();
  }
  EXPECT_EQ(count(), 500);
}

// Producers on their own threads keep submitting while the writer stops: every write is
// either committed (its `done` says ok) or refused with an error; none is left behind in the
// queue with its `done` never called. Under ThreadSanitizer (ops/tsan) this is also the
// writer's race check.
TEST_F(StoreWriterTest, WritesSubmittedDuringStopAreCommittedOrRefusedNeverLost) {
  StoreConfig config;
  config.batch_ms = 2;
  config.batch_rows = 64;
  config.queue_capacity = 256;
  std::atomic<int> next{0};
  int committed = 0;
  for (int cycle = 0; cycle < 10; ++cycle) {
    StoreWriter writer(path_, config);
    std::atomic<bool> done_producing{false};
    std::atomic<int> submitted{0}, ok{0}, refused{0}, answered_twice{0};
    writer.start();
    std::vector<std::thread> producers;
    for (int t = 0; t < 3; ++t) {
      producers.emplace_back([&] {
        while (!done_producing.load()) {
          auto seen = std::make_shared<std::atomic<bool>>(false);
          ++submitted;
          writer.submit(insert(next++, [&, seen](bool good, const std::string&) {
            if (seen->exchange(true)) ++answered_twice;
            ++(good ? ok : refused);
          }));
        }
      });
    }
    // The scenario: the producers are well under way when the writer stops.
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    writer.stop();  // the producers go on submitting through the stop and after it
    test::wait_until([&] { return refused.load() > 0; }, test::kEventually,
                     std::chrono::milliseconds(1));
    done_producing = true;
    for (auto& p : producers) p.join();
    EXPECT_EQ(answered_twice.load(), 0);
    ASSERT_EQ(ok.load() + refused.load(), submitted.load())
        << "cycle " << cycle << ": " << ok.load() << " committed + " << refused.load()
        << " refused of " << submitted.load() << "; the rest were lost in the queue";
    EXPECT_GT(refused.load(), 0);  // the producers outlived the writer
    committed += ok.load();
  }
  EXPECT_EQ(count(), committed);
}

}  // namespace
}  // namespace loa::engine
