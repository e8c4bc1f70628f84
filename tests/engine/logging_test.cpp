#include "engine/logging.hpp"

#include <gtest/gtest.h>

namespace loa::engine {
namespace {

TEST(LoggingTest, RedactsSecrets) {
  EXPECT_EQ(redact("short"), "***");
  EXPECT_EQ(redact("abcdefghijklmnop"), "***op");
}

}  // namespace
}  // namespace loa::engine
