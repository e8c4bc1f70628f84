#include "campaigns/write_behind_sink.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>

namespace loa::campaigns {
namespace {

struct Recording : HouseholdSink {
  void write(const Household& h, std::uint64_t line) override {
    if (fail_at && line == fail_at) throw std::runtime_error("disk full");
    codes.push_back(h.household_code);
    lines.push_back(line);
  }
  std::uint64_t fail_at = 0;
  std::vector<std::string> codes;
  std::vector<std::uint64_t> lines;
};

TEST(WriteBehindSink, DeliversEverythingInOrderThenFinishes) {
  Recording inner;
  bool finished = false;
  {
    WriteBehindSink sink(inner, [&] { finished = true; }, /*batch_rows=*/7, /*max_batches=*/2);
    sink.begin(HeaderMapping{});
    Household h;
    for (int i = 0; i < 1000; ++i) {
      h.household_code = "H" + std::to_string(i);
      sink.write(h, static_cast<std::uint64_t>(i + 2));
    }
    sink.finish();
  }
  EXPECT_TRUE(finished);
  ASSERT_EQ(inner.codes.size(), 1000u);
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(inner.lines[static_cast<std::size_t>(i)], i + 2u);
}

TEST(WriteBehindSink, AWriterErrorReachesTheProducer) {
  Recording inner;
  inner.fail_at = 50;
  bool finished = false;
  WriteBehindSink sink(inner, [&] { finished = true; }, 4, 2);
  sink.begin(HeaderMapping{});
  Household h;
  bool thrown = false;
  try {
    for (std::uint64_t i = 1; i <= 10000; ++i) sink.write(h, i);
    sink.finish();
  } catch (const std::runtime_error& e) {
    thrown = true;
    EXPECT_STREQ(e.what(), "disk full");
  }
  EXPECT_TRUE(thrown);
  EXPECT_FALSE(finished);
  EXPECT_LT(inner.codes.size(), 50u);
}

}  // namespace
}  // namespace loa::campaigns
