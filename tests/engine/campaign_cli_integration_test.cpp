// Campaigns end to end through the `loa` binary against the department's sample list:
// validate, launch into the outbox exactly, survive a kill -9 mid-expansion, lifecycle.
#include <SQLiteCpp/Database.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <filesystem>
#include <fstream>
#include <regex>
#include <thread>

#include "engine/store.hpp"
#include "tests/support/test_dirs.hpp"
#include "tests/support/wait_until.hpp"

namespace loa::engine {
namespace {

using loa::test::fixtures_dir;
using loa::test::loa_binary;
using loa::test::run_command;
using loa::test::source_dir;
using loa::test::TempDir;
using loa::test::write_file;

// 2304 -> "2,304", as the CLI prints counts.
std::string cli_number(int n) {
  std::string digits = std::to_string(n);
  for (int i = static_cast<int>(digits.size()) - 3; i > 0; i -= 3) digits.insert(i, ",");
  return digits;
}

class CampaignCli : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(loa("templates load " + (source_dir() / "ops/examples/templates.toml").string())
                  .exit_code,
              0);
    ASSERT_EQ(loa("contacts import " + (fixtures_dir() / "households-sample.csv").string())
                  .exit_code,
              0);
  }
  test::CommandResult loa(const std::string& args, const std::string& env = "") {
    return run_command("LOA_DAEMON_DATA_DIR=" + data_.string() + " " + env + " " +
                       loa_binary().string() + " " + args);
  }
  SQLite::Database db() { return open_store(data_ / "loa.db", StoreMode::kReadOnly); }
  int query(const std::string& sql) { return db().execAndGet(sql).getInt(); }
  // A copy of the example campaign under another name.
  std::string campaign_file(const std::string& name) {
    std::ifstream in(source_dir() / "ops/examples/campaign.toml");
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string text =
        std::regex_replace(ss.str(), std::regex("name = \"bhyt-2026\""), "name = \"" + name + "\"");
    const auto path = dir_ / (name + ".toml");
    write_file(path, text);
    return path.string();
  }
  // Independently of the planner: the audience's distinct usable phones (every household
  // consents by default and none opted out, so a phone is a usable channel for zalo_zns or sms).
  int expected_messages() {
    return query(
        "SELECT COUNT(DISTINCT phone_e164) FROM households WHERE category IN ('poor', "
        "'near_poor') AND phone_e164 IS NOT NULL");
  }
  TempDir dir_;
  std::filesystem::path data_ = dir_ / "data";
};

TEST_F(CampaignCli, ValidatePrintsTheEstimateAndLaunchExpandsExactly) {
  auto v = loa("campaign validate " + (source_dir() / "ops/examples/campaign.toml").string());
  ASSERT_EQ(v.exit_code, 0) << v.output;
  for (const char* part : {"households", "without a usable channel", "Cost by route and language",
                           "sms", "zalo_zns", "first send", "last send", "valid: ready to launch"})
    EXPECT_NE(v.output.find(part), std::string::npos) << part << "\n" << v.output;
  EXPECT_EQ(query("SELECT COUNT(*) FROM campaigns"), 0) << "validate of a file wrote a campaign";

  ASSERT_EQ(loa("campaign create " + (source_dir() / "ops/examples/campaign.toml").string())
                .exit_code,
            0);
  auto l = loa("campaign launch bhyt-2026");
  ASSERT_EQ(l.exit_code, 0) << l.output;
  const int expected = expected_messages();
  EXPECT_GT(expected, 2000);
  EXPECT_EQ(query("SELECT COUNT(*) FROM outbox"), expected);
  EXPECT_EQ(query("SELECT COUNT(DISTINCT phone_e164) FROM outbox"), expected);  // no duplicate
  EXPECT_EQ(query("SELECT COUNT(DISTINCT household_id) FROM outbox"), expected);
  EXPECT_EQ(query("SELECT COUNT(*) FROM outbox o JOIN households h ON h.id = o.household_id "
                  "WHERE h.category NOT IN ('poor', 'near_poor')"),
            0);
  // Zalo where the household uses it, SMS otherwise, with SMS as the fallback after Zalo.
  EXPECT_EQ(query("SELECT COUNT(*) FROM outbox o JOIN households h ON h.id = o.household_id "
                  "WHERE o.channel = 'zalo_zns' AND h.has_zalo = 0"),
            0);
  EXPECT_EQ(query("SELECT COUNT(*) FROM outbox WHERE channel = 'zalo_zns' AND fallback <> 'sms'"), 0);
  EXPECT_GT(query("SELECT COUNT(*) FROM outbox WHERE units > 0 AND cost_vnd > 0"), 0);
  // The statistics summary counts every planned row once, per key (expansion applies the
  // counts once per transaction, not per page).
  EXPECT_EQ(query("SELECT SUM(planned) FROM stats_summary"), expected);
  EXPECT_EQ(query("SELECT COUNT(*) FROM (SELECT o.channel, o.route, o.language, "
                  "COALESCE(h.commune, '') AS commune, COALESCE(h.category, '') AS category, "
                  "COUNT(*) AS n FROM outbox o JOIN households h ON h.id = o.household_id "
                  "GROUP BY 1, 2, 3, 4, 5) AS byrow LEFT JOIN (SELECT channel, route, language, "
                  "commune, category, SUM(planned) AS n FROM stats_summary GROUP BY 1, 2, 3, 4, 5) "
                  "AS bysum USING (channel, route, language, commune, category) "
                  "WHERE bysum.n IS NULL OR byrow.n <> bysum.n"),
            0);
  // Launching again changes nothing: the campaign is running and its round is expanded.
  auto again = loa("campaign launch bhyt-2026");
  EXPECT_NE(again.exit_code, 0) << again.output;
  EXPECT_EQ(query("SELECT COUNT(*) FROM outbox"), expected);
}

TEST_F(CampaignCli, AKillDuringExpansionLeavesAnExactOutbox) {
  ASSERT_EQ(loa("campaign create " + campaign_file("crash")).exit_code, 0);
  // Small pages, so the expansion takes many transactions; a short staleness, so the rerun
  // may take over at once.
  const std::string env = "LOA_PLANNER_PAGE_ROWS=5 LOA_PLANNER_STALE_AFTER_SECONDS=1";
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::setenv("LOA_DAEMON_DATA_DIR", data_.c_str(), 1);
    ::setenv("LOA_PLANNER_PAGE_ROWS", "5", 1);
    ::setenv("LOA_LOG_LEVEL", "warn", 1);
    const int devnull = ::open("/dev/null", O_WRONLY);
    ::dup2(devnull, 1);
    ::dup2(devnull, 2);
    ::execl(loa_binary().c_str(), "loa", "campaign", "launch", "crash",
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  // Kill it once some pages are in.
  test::wait_until(
      [&] {
        try {
          return query("SELECT COUNT(*) FROM outbox") >= 200;
        } catch (const std::exception&) {
          return false;  // the planner holds the write lock; ask again
        }
      },
      test::kEventually, std::chrono::milliseconds(5));
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  const int at_kill = query("SELECT COUNT(*) FROM outbox");
  const int expected = expected_messages();
  ASSERT_GT(at_kill, 0) << "the planner was killed before it planned anything";
  ASSERT_LT(at_kill, expected) << "the planner finished before it could be killed";
  EXPECT_EQ(query("SELECT COUNT(*) FROM rounds WHERE state = 'expanding'"), 1);

  // The scenario: the killed planner's heartbeat must grow older than
  // planner.stale_after_seconds (1) before another may take the round over.
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  auto rerun = loa("campaign expand", env);
  ASSERT_EQ(rerun.exit_code, 0) << rerun.output;
  EXPECT_EQ(query("SELECT COUNT(*) FROM outbox"), expected);
  EXPECT_EQ(query("SELECT COUNT(DISTINCT phone_e164) FROM outbox"), expected);
  EXPECT_EQ(query("SELECT COUNT(*) FROM rounds WHERE state = 'expanded'"), 1);
  EXPECT_EQ(query("SELECT MAX(id) FROM households WHERE category IN ('poor', 'near_poor')"),
            query("SELECT cursor FROM rounds"));
  // The statistics counted in the killed transaction died with it: nothing counted twice.
  EXPECT_EQ(query("SELECT SUM(planned) FROM stats_summary"), expected);
}

TEST_F(CampaignCli, LifecycleIsCheckedAndAudited) {
  ASSERT_EQ(loa("campaign create " + campaign_file("life")).exit_code, 0);
  EXPECT_NE(loa("campaign pause life").exit_code, 0);  // a draft cannot pause
  ASSERT_EQ(loa("campaign launch life --detach").exit_code, 0);
  EXPECT_EQ(query("SELECT COUNT(*) FROM outbox"), 0);  // detached: the daemon expands
  ASSERT_EQ(loa("campaign pause life").exit_code, 0);
  ASSERT_EQ(loa("campaign resume life").exit_code, 0);
  ASSERT_EQ(loa("campaign expand").exit_code, 0);
  EXPECT_EQ(query("SELECT COUNT(*) FROM outbox"), expected_messages());
  ASSERT_EQ(loa("campaign cancel life").exit_code, 0);
  EXPECT_EQ(query("SELECT COUNT(*) FROM outbox WHERE state = 'planned'"), 0);
  EXPECT_EQ(query("SELECT COUNT(*) FROM outbox WHERE state = 'cancelled'"), expected_messages());
  EXPECT_NE(loa("campaign resume life").exit_code, 0);
  EXPECT_EQ(query("SELECT COUNT(*) FROM audit_log WHERE subject = 'campaign:life'"), 6)
      << "create, schedule, pause, resume, run, cancel";
}

TEST_F(CampaignCli, ShowPrintsTheFunnelAndJsonForScripts) {
  ASSERT_EQ(loa("campaign create " + campaign_file("funnel")).exit_code, 0);
  ASSERT_EQ(loa("campaign launch funnel").exit_code, 0);
  const int total = expected_messages();
  {
    // What the results stream would have applied (campaigns/outbox_event.hpp).
    auto rw = open_store(data_ / "loa.db", StoreMode::kReadWrite);
    rw.exec("UPDATE outbox SET state = 'delivered', sent_at = 'x' WHERE id % 4 = 0");
    rw.exec("UPDATE outbox SET state = 'sent', sent_at = 'x' WHERE id % 4 = 1");
    rw.exec("UPDATE outbox SET state = 'failed', last_error = 'timeout' WHERE id % 8 = 2");
    rw.exec(
        "UPDATE outbox SET state = 'failed', last_error = 'bad number' WHERE id = "
        "(SELECT MAX(id) FROM outbox WHERE id % 8 = 6)");
    rw.exec(
        "INSERT INTO replies(route, campaign_id, phone, text, provider_id, received_at) "
        "SELECT 'sms', id, '+84912345678', 'Cảm ơn cán bộ', 'mo-1', 'now' FROM campaigns");
  }
  auto count = [&](const std::string& where) {
    return query("SELECT COUNT(*) FROM outbox WHERE " + where);
  };
  auto r = loa("campaign show funnel --json");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const boost::json::value v = boost::json::parse(r.output);
  EXPECT_EQ(v.at("name").as_string(), "funnel");
  EXPECT_EQ(v.at("state").as_string(), "running");
  const auto& f = v.at("funnel");
  EXPECT_EQ(f.at("delivered").as_int64(), count("state = 'delivered'"));
  EXPECT_EQ(f.at("sent").as_int64(), count("state = 'sent'"));
  EXPECT_EQ(f.at("failed").as_int64(), count("state = 'failed'"));
  EXPECT_EQ(f.at("planned").as_int64(), count("state = 'planned'"));
  EXPECT_EQ(f.at("queued").as_int64(), 0);
  EXPECT_EQ(f.at("expired").as_int64(), 0);
  EXPECT_EQ(f.at("cancelled").as_int64(), 0);
  EXPECT_EQ(f.at("total").as_int64(), total);
  EXPECT_EQ(f.at("failed_by_reason").at("timeout").as_int64(), count("last_error = 'timeout'"));
  EXPECT_EQ(f.at("failed_by_reason").at("bad number").as_int64(), 1);
  EXPECT_EQ(f.at("cost_vnd").as_int64(),
            query("SELECT SUM(cost_vnd) FROM outbox WHERE sent_at IS NOT NULL"));
  EXPECT_EQ(f.at("replies").as_int64(), 1);

  auto text = loa("campaign show funnel");
  ASSERT_EQ(text.exit_code, 0) << text.output;
  for (const std::string& part :
       std::vector<std::string>{"campaign funnel [running]", "delivered", "failed", "timeout",
                                "bad number", "cost so far", "replies", cli_number(total)})
    EXPECT_NE(text.output.find(part), std::string::npos) << part << "\n" << text.output;
  EXPECT_NE(loa("campaign show nope --json").exit_code, 0);
}

TEST_F(CampaignCli, BadCampaignsAreRefusedBeforeAnythingIsWritten) {
  write_file(dir_ / "bad.toml",
             "[campaign]\nname = \"x\"\ntemplate = \"no_such_template\"\naudience = "
             "'category = \"poor\"'\nstart_at = \"2026-12-01\"\nend_at = \"2026-12-31\"\n");
  auto r = loa("campaign create " + (dir_ / "bad.toml").string());
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("unknown template 'no_such_template'"), std::string::npos) << r.output;
  write_file(dir_ / "seg.toml",
             "[campaign]\nname = \"y\"\ntemplate = \"ho_tro_bhyt\"\nsegment = \"nope\"\n"
             "start_at = \"2026-12-01\"\nend_at = \"2026-12-31\"\n");
  r = loa("campaign create " + (dir_ / "seg.toml").string());
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("no segment named 'nope'"), std::string::npos) << r.output;
  EXPECT_EQ(query("SELECT COUNT(*) FROM campaigns"), 0);
}

}  // namespace
}  // namespace loa::engine
