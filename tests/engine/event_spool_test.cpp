// The webhook spool (engine/event_spool.hpp): what it acknowledged survives a kill of the
// process, comes back out in the order it went in, and never grows past its bound.
#include "engine/event_spool.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "tests/support/test_dirs.hpp"

namespace loa::engine {
namespace {

std::vector<std::string> drain(EventSpool& spool) {
  std::vector<std::string> out;
  while (auto r = spool.front()) {
    out.push_back(*r);
    spool.pop();
  }
  return out;
}

std::string record(int i) { return "reply\t" + std::to_string(i) + "\tTỪ CHỐI"; }

TEST(EventSpool, WhatItAcknowledgedSurvivesAKillOfTheProcess) {
  test::TempDir dir;
  const auto file = dir / "spool" / "sms.spool";
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // The child acknowledges 50 records, delivers the first 10, then dies without a word.
    EventSpool spool(file, 1 << 20);
    for (int i = 0; i < 50; ++i)
      if (!spool.append(record(i))) ::_exit(3);
    for (int i = 0; i < 10; ++i) spool.pop();
    ::kill(::getpid(), SIGKILL);
    ::_exit(4);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status)) << "the child exited with " << WEXITSTATUS(status);
  ASSERT_EQ(WTERMSIG(status), SIGKILL);

  EventSpool spool(file, 1 << 20);
  EXPECT_EQ(spool.pending(), 40u);
  const auto back = drain(spool);
  ASSERT_EQ(back.size(), 40u);
  for (int i = 0; i < 40; ++i) EXPECT_EQ(back[static_cast<std::size_t>(i)], record(i + 10));
  EXPECT_EQ(spool.bytes(), 0u);  // all delivered: the file starts again from nothing
  EXPECT_EQ(std::filesystem::file_size(file), 0u);
}

TEST(EventSpool, ATornLastRecordIsCutOffAndTheRestKept) {
  test::TempDir dir;
  const auto file = dir / "sms.spool";
  {
    EventSpool spool(file, 1 << 20);
    ASSERT_TRUE(spool.append(record(1)));
    ASSERT_TRUE(spool.append(record(2)));
  }
  const auto good = std::filesystem::file_size(file);
  {
    // A kill in the middle of an append: a header promising more than was written.
    std::ofstream out(file, std::ios::binary | std::ios::app);
    out << 'P' << '\x40' << '\0' << '\0' << '\0' << "abcd"
        << "only part of it";
  }
  {
    EventSpool spool(file, 1 << 20);
    EXPECT_EQ(spool.pending(), 2u);
    EXPECT_EQ(spool.bytes(), good);
    ASSERT_TRUE(spool.append(record(3)));  // goes where the torn record was
  }
  EventSpool spool(file, 1 << 20);
  EXPECT_EQ(drain(spool), (std::vector<std::string>{record(1), record(2), record(3)}));
}

TEST(EventSpool, RecordsComeOutInTheOrderTheyWentInAcrossReopens) {
  test::TempDir dir;
  const auto file = dir / "sms.spool";
  {
    EventSpool spool(file, 1 << 20);
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(spool.append(record(i)));
    EXPECT_EQ(spool.front(), record(0));
    spool.pop();
    spool.pop();
    ASSERT_TRUE(spool.append(record(5)));  // appended while draining: after the rest
  }
  EventSpool spool(file, 1 << 20);
  EXPECT_EQ(drain(spool), (std::vector<std::string>{record(2), record(3), record(4), record(5)}));
  EXPECT_FALSE(spool.front().has_value());
}

TEST(EventSpool, IsBoundedAndTakesMoreOnceDrained) {
  test::TempDir dir;
  const std::string payload(100, 'x');
  const std::uint64_t bound = 1000;  // 9 bytes of header + 100 per record: 9 records fit
  EventSpool spool(dir / "sms.spool", bound);
  int taken = 0;
  while (spool.append(payload)) ++taken;
  EXPECT_EQ(taken, 9);
  EXPECT_LE(spool.bytes(), bound);
  EXPECT_FALSE(spool.append(payload));  // still full: the webhook answers 503
  EXPECT_EQ(drain(spool).size(), 9u);
  EXPECT_TRUE(spool.append(payload));
}

TEST(EventSpool, AFileItCannotOpenIsAClearError) {
  test::TempDir dir;
  std::filesystem::create_directories(dir / "a-directory.spool");
  try {
    EventSpool spool(dir / "a-directory.spool", 1 << 20);
    FAIL() << "opened a directory";
  } catch (const SpoolError& e) {
    EXPECT_NE(std::string(e.what()).find("cannot open the spool"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace loa::engine
