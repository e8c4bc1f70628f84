// `loa sms inspect`, `loa templates load|list` and `loa template preview`, run as a user runs
// them: the real binary, a real SQLite store in a temporary data directory, the shipped
// ops/examples/templates.toml.
#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <string>

#include "tests/support/test_dirs.hpp"

namespace loa::engine {
namespace {

namespace json = boost::json;
using loa::test::CommandResult;
using loa::test::loa_binary;
using loa::test::run_command;
using loa::test::source_dir;
using loa::test::TempDir;
using loa::test::write_file;

std::string example_library() { return (source_dir() / "ops/examples/templates.toml").string(); }

// Runs loa with its data directory in `dir`.
CommandResult loa(const TempDir& dir, const std::string& arguments, const std::string& env = "") {
  return run_command("LOA_DAEMON_DATA_DIR=" + (dir / "data").string() + " " + env + " " +
                     loa_binary().string() + " " + arguments);
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// ---- loa sms inspect ---------------------------------------------------------------------------

TEST(SmsInspectTest, XinChaoBaConMatchesTheStandard) {
  TempDir dir;
  const CommandResult r = loa(dir, "sms inspect \"Xin chào bà con\"");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const json::object out = json::parse(r.output).as_object();
  // à is in the GSM 03.38 basic table, so the greeting is GSM-7: 15 septets in one SMS.
  EXPECT_EQ(out.at("normalized").as_string(), "Xin chào bà con");
  EXPECT_EQ(out.at("encoding").as_string(), "gsm7");
  EXPECT_EQ(out.at("units").to_number<int>(), 15);
  EXPECT_EQ(out.at("segments").to_number<int>(), 1);
  EXPECT_EQ(out.at("chars_per_segment").to_number<int>(), 160);
  EXPECT_EQ(out.at("ascii_text").as_string(), "Xin chao ba con");
  EXPECT_EQ(out.at("ascii_segments").to_number<int>(), 1);
  EXPECT_TRUE(out.at("ascii_lossless").as_bool());
}

TEST(SmsInspectTest, VietnameseIsUcs2AndEdeLettersAreReported) {
  TempDir dir;
  // NFD input (as a "tổ hợp" keyboard types it) is normalised before counting; ê̆ costs 2.
  // (Octal escapes: the shell's own printf, dash's, has no \x.)
  CommandResult r = loa(dir,
                        "sms inspect \"$(printf 'Ti\\303\\252\\314\\201ng Vi\\341\\273\\207t "
                        "\\303\\252\\314\\206')\"");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  json::object out = json::parse(r.output).as_object();
  EXPECT_EQ(out.at("normalized").as_string(), "Tiếng Việt ê\u0306");
  EXPECT_EQ(out.at("encoding").as_string(), "ucs2");
  EXPECT_EQ(out.at("units").to_number<int>(), 13);
  EXPECT_EQ(out.at("chars_per_segment").to_number<int>(), 70);
  EXPECT_EQ(out.at("ascii_text").as_string(), "Tieng Viet e");
  EXPECT_FALSE(out.at("ascii_lossless").as_bool());
  const json::array& lost = out.at("ascii_lost").as_array();
  ASSERT_EQ(lost.size(), 1u);
  EXPECT_EQ(lost[0].as_object().at("character").as_string(), "ê\u0306");

  // 71 UCS-2 units: two segments of 67.
  std::string long_text;
  for (int i = 0; i < 71; ++i) long_text += "ộ";
  r = loa(dir, "sms inspect " + long_text);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  out = json::parse(r.output).as_object();
  EXPECT_EQ(out.at("segments").to_number<int>(), 2);
  EXPECT_EQ(out.at("chars_per_segment").to_number<int>(), 67);
}

TEST(SmsInspectTest, BadInputIsAnErrorNeverACrash) {
  TempDir dir;
  // Invalid UTF-8 and a UTF-8-encoded surrogate, through standard input.
  CommandResult r = run_command("printf 'ab\\xffc' | " + loa_binary().string() + " sms inspect -");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_TRUE(contains(r.output, "invalid UTF-8 at character 3 (byte offset 2, byte 0xFF)"))
      << r.output;
  r = run_command("printf 'x\\xed\\xa0\\x80' | " + loa_binary().string() + " sms inspect -");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_TRUE(contains(r.output, "invalid UTF-8")) << r.output;
  // Control and zero-width characters are removed by the rule and counted.
  r = run_command("printf 'a\\x07b\\xe2\\x80\\x8bc' | " + loa_binary().string() + " sms inspect -");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const json::object out = json::parse(r.output).as_object();
  EXPECT_EQ(out.at("normalized").as_string(), "abc");
  EXPECT_EQ(out.at("encoding").as_string(), "gsm7");
  EXPECT_EQ(out.at("removed_characters").to_number<int>(), 2);
}

// ---- loa templates load / list -----------------------------------------------------------------

TEST(TemplatesLoadTest, LoadsTheShippedLibraryOnceAndIdempotently) {
  TempDir dir;
  CommandResult r = loa(dir, "templates load " + example_library());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(contains(r.output, "9 templates (9 new, 0 updated, 0 unchanged)")) << r.output;
  EXPECT_TRUE(contains(r.output, "ho_tro_bhyt")) << r.output;
  EXPECT_TRUE(contains(r.output, "awaiting translation: cmo, jra, rad")) << r.output;
  EXPECT_TRUE(contains(r.output, "rad → vi, cmo → vi, jra → vi")) << r.output;
  EXPECT_FALSE(contains(r.output, "error")) << r.output;

  r = loa(dir, "templates load " + example_library());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(contains(r.output, "(0 new, 0 updated, 9 unchanged)")) << r.output;

  SQLite::Database db((dir / "data" / "loa.db").string(), SQLite::OPEN_READONLY);
  EXPECT_EQ(db.execAndGet("SELECT count(*) FROM templates").getInt(), 9);
  EXPECT_EQ(
      db.execAndGet("SELECT count(*) FROM template_variants WHERE channel = 'zalo_zns'").getInt(),
      3);
  EXPECT_EQ(db.execAndGet("SELECT count(*) FROM template_variants WHERE language != 'vi' AND "
                          "body != ''")
                .getInt(),
            0);
  EXPECT_EQ(db.execAndGet("SELECT revision FROM templates WHERE key = 'ho_tro_bhyt'").getInt(), 1);
  EXPECT_EQ(
      db.execAndGet("SELECT count(*) FROM audit_log WHERE action = 'templates.load'").getInt(), 9);

  r = loa(dir, "templates list");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(contains(r.output, "muc_tieu_chuong_trinh")) << r.output;
  EXPECT_TRUE(contains(r.output, "zalo_zns: vi")) << r.output;
}

TEST(TemplatesLoadTest, AChangedTemplateGetsANewRevision) {
  TempDir dir;
  write_file(dir / "a.toml", "[templates.a.sms]\nvi = \"Xin chào {{name}}\"\n");
  ASSERT_EQ(loa(dir, "templates load " + (dir / "a.toml").string()).exit_code, 0);
  write_file(dir / "a.toml", "[templates.a.sms]\nvi = \"Kính gửi {{name}}\"\n");
  const CommandResult dry = loa(dir, "templates load --dry-run " + (dir / "a.toml").string());
  ASSERT_EQ(dry.exit_code, 0) << dry.output;
  EXPECT_TRUE(contains(dry.output, "dry run, nothing written")) << dry.output;
  EXPECT_TRUE(contains(dry.output, "(0 new, 1 updated, 0 unchanged)")) << dry.output;
  const CommandResult r = loa(dir, "templates load " + (dir / "a.toml").string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(contains(r.output, "updated   rev 2")) << r.output;
  SQLite::Database db((dir / "data" / "loa.db").string(), SQLite::OPEN_READONLY);
  EXPECT_EQ(
      db.execAndGet("SELECT body FROM template_variants WHERE template_key = 'a'").getString(),
      "Kính gửi {{name}}");
}

TEST(TemplatesLoadTest, ErrorsNameEverythingAndNothingIsStored) {
  TempDir dir;
  write_file(dir / "bad.toml",
             "[templates.ok.sms]\nvi = \"Xin chào\"\n"
             "[templates.bad.sms]\nvi = \"Kính gửi {{nmae}}\"\n"
             "[templates.bad.zalo_oa]\nrad = \"\"\"\nDòng một\n{{#is_poor}}\n\"\"\"\n");
  const CommandResult r = loa(dir, "templates load " + (dir / "bad.toml").string());
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_TRUE(contains(r.output,
                       "bad.toml:8:1: error: template 'bad', language 'rad', channel 'zalo_oa', "
                       "text 2:1: section 'is_poor' is never closed"))
      << r.output;
  EXPECT_TRUE(contains(r.output, "nothing was loaded")) << r.output;
  // Validation comes before the store is even opened.
  EXPECT_FALSE(std::filesystem::exists(dir / "data" / "loa.db"));

  // With the syntax fixed, the unknown variable is reported with its file position.
  write_file(dir / "bad.toml", "[templates.bad.sms]\nvi = \"Kính gửi {{nmae}}\"\n");
  const CommandResult again = loa(dir, "templates load " + (dir / "bad.toml").string());
  EXPECT_EQ(again.exit_code, 1) << again.output;
  EXPECT_TRUE(contains(again.output,
                       "bad.toml:2:16: error: template 'bad', language 'vi', channel 'sms', "
                       "text 1:10: unknown variable 'nmae'"))
      << again.output;
}

TEST(TemplatesLoadTest, MissingFileIsUsage) {
  TempDir dir;
  const CommandResult r = loa(dir, "templates load " + (dir / "nope.toml").string());
  EXPECT_EQ(r.exit_code, 2) << r.output;
}

// ---- loa template preview ----------------------------------------------------------------------

TEST(TemplatePreviewTest, ShowsVietnameseSmsItsUnaccentedFormAndZnsWithSegmentsAndCost) {
  TempDir dir;
  ASSERT_EQ(loa(dir, "templates load " + example_library()).exit_code, 0);
  const CommandResult r = loa(dir, "template preview ho_tro_bhyt --sample 4");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string& out = r.output;
  // The Vietnamese SMS with diacritics: 158 UTF-16 units, 3 segments at 800 VND.
  EXPECT_TRUE(contains(out, "with diacritics     UCS-2   158 units    3 segments       2.400 VND"))
      << out;
  EXPECT_TRUE(contains(out, "Người thuộc hộ nghèo được cấp thẻ BHYT miễn phí")) << out;
  // Its unaccented form: 158 septets, 1 segment.
  EXPECT_TRUE(contains(out, "without diacritics  GSM-7   158 septets  1 segment          800 VND"))
      << out;
  EXPECT_TRUE(contains(out, "Nguoi thuoc ho ngheo duoc cap the BHYT mien phi")) << out;
  EXPECT_TRUE(contains(out,
                       "sends: without diacritics, GSM-7, 1 segment, 800 VND on route 'sms' "
                       "(auto: without diacritics, saves 2 segments)"))
      << out;
  // The ZNS parameter set, one message at 200 VND.
  EXPECT_TRUE(contains(out, "template_id CHO_DUYET_BHYT")) << out;
  EXPECT_TRUE(contains(out, "\"ten_chu_ho\":\"Phạm Thị Hương\"")) << out;
  EXPECT_TRUE(contains(out, "sends: 1 message, 200 VND on route 'zalo_zns'")) << out;
  // The fallback, working: the Ê Đê household gets Vietnamese, and why.
  EXPECT_TRUE(contains(out, "household sample-rad: H'Ƀlơi Mlô")) << out;
  EXPECT_TRUE(contains(out, "sms [vi ← rad: awaiting translation]")) << out;
  EXPECT_TRUE(contains(out, "zalo_zns [vi ← rad: no variant]")) << out;
  EXPECT_TRUE(contains(out, "sms: 4 households; vi 4; fell back 3")) << out;
  EXPECT_TRUE(contains(out, "sms        total            4              4        3.200")) << out;
}

TEST(TemplatePreviewTest, EdeNameKeepsDiacriticsOnAutoRoutes) {
  TempDir dir;
  ASSERT_EQ(loa(dir, "templates load " + example_library()).exit_code, 0);
  const CommandResult r = loa(dir, "template preview hoi_dap --sample 2");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(contains(r.output, "(cannot be written without diacritics: 'Ƀ')")) << r.output;
  EXPECT_TRUE(contains(r.output,
                       "sends: with diacritics, UCS-2, 3 segments, 2.400 VND on route "
                       "'sms' (auto: keeps diacritics, because without them 'Ƀ'"))
      << r.output;
}

TEST(TemplatePreviewTest, ContactFromTheStoreAndPricesFromConfig) {
  TempDir dir;
  ASSERT_EQ(loa(dir, "templates load " + example_library()).exit_code, 0);
  {
    SQLite::Database db((dir / "data" / "loa.db").string(), SQLite::OPEN_READWRITE);
    db.exec(
        "INSERT INTO households (id, household_code, name, phone_e164, language, ethnicity, "
        "category, province, commune, village, has_zalo, attributes) VALUES (42, "
        "'DL-09-0000035', 'Y Blin Buôn Yă', '+84366142760', 'rad', 'Ê Đê', 'near_poor', "
        "'Đắk Lắk', 'Xã Cư Mốt', 'Buôn 8', 1, '{\"so_the\":\"HN123\"}')");
  }
  write_file(dir / "loa.toml",
             "[routes.sms]\nprice_vnd_per_segment = 500\npolicy = \"unicode\"\n"
             "[routes.zalo_zns]\nprice_vnd_per_message = 120\n");
  const std::string config = "--config " + (dir / "loa.toml").string() + " ";
  CommandResult r = loa(dir, config + "template preview ho_tro_bhyt --contact 42");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(contains(r.output,
                       "household 42: Y Blin Buôn Yă (language rad, Hộ cận nghèo, Buôn "
                       "8, Xã Cư Mốt) [store]"))
      << r.output;
  EXPECT_TRUE(contains(r.output,
                       "sends: with diacritics, UCS-2, 3 segments, 1.500 VND on route "
                       "'sms' (unicode: text sent as written)"))
      << r.output;
  EXPECT_TRUE(contains(r.output, "sends: 1 message, 120 VND on route 'zalo_zns'")) << r.output;
  EXPECT_TRUE(contains(r.output, "Gia đình ông/bà thuộc diện hộ cận nghèo")) << r.output;

  // By household code as well; an unknown one is an error.
  r = loa(dir, "template preview ho_tro_bhyt --contact DL-09-0000035");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  r = loa(dir, "template preview ho_tro_bhyt --contact 4242");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_TRUE(contains(r.output, "no household with id or code '4242'")) << r.output;
  // --sample now takes households from the store.
  r = loa(dir, "template preview ho_tro_bhyt --sample 3");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(contains(r.output, "household 42: Y Blin Buôn Yă")) << r.output;
}

TEST(TemplatePreviewTest, UnknownTemplateAndFileMode) {
  TempDir dir;
  CommandResult r = loa(dir, "template preview nope --sample 1");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_TRUE(contains(r.output, "no template 'nope'")) << r.output;
  // Straight from a file, without a store; campaign variables from --var.
  r = loa(dir, "template preview hoi_dap --file " + example_library() +
                   " --var hotline=0262.3.111.222 --var campaign.reply_number=8xyz");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(contains(r.output, "gọi 0262.3.111.222")) << r.output;
  EXPECT_TRUE(contains(r.output, "số 8xyz")) << r.output;
  EXPECT_FALSE(std::filesystem::exists(dir / "data" / "loa.db"));
  r = loa(dir, "template preview hoi_dap --contact 1 --sample 2");
  EXPECT_EQ(r.exit_code, 2) << r.output;
}

TEST(TemplateConfigTest, BadFallbackChainIsAConfigError) {
  TempDir dir;
  write_file(dir / "loa.toml", "[languages]\nfallback = \"rad:cmo,cmo:rad\"\n");
  const CommandResult r =
      loa(dir, "--config " + (dir / "loa.toml").string() + " template preview x --sample 1");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_TRUE(contains(r.output, "languages.fallback")) << r.output;
  EXPECT_TRUE(contains(r.output, "loops: rad → cmo → rad")) << r.output;
}

}  // namespace
}  // namespace loa::engine
