// Query strings and form bodies both ways, and the helpers of webhook parsing (phone numbers
// from gateways, log-safe text, the token check), one row per case.
#include "adapters/form_encoding.hpp"

#include <gtest/gtest.h>

#include "adapters/phone_format.hpp"
#include "adapters/webhook.hpp"

namespace loa::adapters {
namespace {

TEST(FormEncodingTest, EncodesEverythingButUnreserved) {
  EXPECT_EQ(percent_encode("AZaz09-._~"), "AZaz09-._~");
  EXPECT_EQ(percent_encode(" +&=?/%#"), "%20%2B%26%3D%3F%2F%25%23");
  EXPECT_EQ(percent_encode("Đắk"), "%C4%90%E1%BA%AFk");
  EXPECT_TRUE(is_unreserved("abc-1.2_3~"));
  EXPECT_FALSE(is_unreserved("a b"));
  EXPECT_FALSE(is_unreserved(""));
}

TEST(FormEncodingTest, DecodesQueriesAndBodies) {
  const FormParams p =
      FormParams::from_target("/x?a=1&b=x+y%2Bz&empty=&flag&a=2&v=%C4%90%E1%BA%AFk");
  EXPECT_TRUE(p.well_formed());
  EXPECT_EQ(p.get("a"), "1");  // the first of a repeated name
  EXPECT_EQ(p.get("b"), "x y+z");
  EXPECT_EQ(p.get_literal_plus("b"), "x+y+z");
  EXPECT_EQ(p.get("empty"), "");
  EXPECT_EQ(p.get("flag"), "");
  EXPECT_EQ(p.get("v"), "Đắk");
  EXPECT_EQ(p.get("missing"), std::nullopt);
  EXPECT_FALSE(FormParams::from_target("/x").has("a"));

  const FormParams appended = FormParams::from_target("/dlr?token=t&id=1?SMSID=9", true);
  EXPECT_EQ(appended.get("id"), "1");
  EXPECT_EQ(appended.get("SMSID"), "9");
  EXPECT_EQ(FormParams::from_target("/dlr?id=1?SMSID=9").get("id"), "1?SMSID=9");

  EXPECT_EQ(FormParams::from_body("a=%41&b=c").get("a"), "A");
  EXPECT_FALSE(FormParams::from_target("/x?a=%4").well_formed());
  EXPECT_FALSE(FormParams::from_target("/x?a=%zz").well_formed());
}

TEST(FormEncodingTest, PhonesFromAndForGateways) {
  struct Row {
    std::string e164;
    PhoneFormat format;
    std::optional<std::string> spelled;
  };
  const std::vector<Row> rows = {
      {"+84912345678", PhoneFormat::kE164, "+84912345678"},
      {"+84912345678", PhoneFormat::kInternational, "84912345678"},
      {"+84912345678", PhoneFormat::kNational, "0912345678"},
      {"+4930123456", PhoneFormat::kE164, "+4930123456"},
      {"+4930123456", PhoneFormat::kInternational, std::nullopt},
      {"0912345678", PhoneFormat::kE164, std::nullopt},
      {"+84 912", PhoneFormat::kE164, std::nullopt},
      {"", PhoneFormat::kNational, std::nullopt},
  };
  for (const Row& row : rows)
    EXPECT_EQ(format_phone(row.e164, row.format), row.spelled) << row.e164;

  EXPECT_EQ(sender_to_e164("84912345678"), "+84912345678");
  EXPECT_EQ(sender_to_e164("0912345678"), "+84912345678");
  EXPECT_EQ(sender_to_e164("+84912345678"), "+84912345678");
  EXPECT_EQ(sender_to_e164("8088"), "8088");  // a short code stays as it is
  EXPECT_EQ(sender_to_e164("SoLDTBXH"), "SoLDTBXH");
}

TEST(FormEncodingTest, WebhookHelpers) {
  EXPECT_EQ(loggable("NACK 84912345678 tại 0912345678, mã 123456"), "NACK *** tại ***, mã 123456");
  EXPECT_EQ(loggable("a\nb\x01"), "a?b?");
  EXPECT_EQ(loggable("bad \xFF byte"), "bad ? byte");
  EXPECT_EQ(loggable("Đắk Lắk", 4), "Đ");  // never cut inside a letter
  EXPECT_EQ(loggable("abcdef", 3), "abc");

  EXPECT_TRUE(secret_equals("tok-1", "tok-1"));
  EXPECT_FALSE(secret_equals("tok-2", "tok-1"));
  EXPECT_FALSE(secret_equals("tok-1x", "tok-1"));
  EXPECT_FALSE(secret_equals("", ""));  // an empty secret never matches
  EXPECT_EQ(token_mismatch(std::string("t"), "t", "dlr_token"), "");
  EXPECT_EQ(token_mismatch(std::nullopt, "t", "dlr_token"), "wrong or missing token");
  EXPECT_EQ(token_mismatch(std::string("t"), "", "dlr_token"), "no dlr_token configured");
}

}  // namespace
}  // namespace loa::adapters
