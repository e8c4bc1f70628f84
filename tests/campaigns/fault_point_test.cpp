// The crash points of campaigns/fault_point.hpp: inert unless LOA_FAULT_KILL_AT names them,
// and then a SIGKILL at exactly the named pass. Built with LOA_FAULT_INJECTION (the dev preset);
// in a build without it the macro must compile to nothing, which the last test checks.
#include "campaigns/fault_point.hpp"

#include <gtest/gtest.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>

namespace {

#if defined(LOA_FAULT_INJECTION)

// Each EXPECT_EXIT runs its statement in a fresh child process, so the environment is read
// anew there (the parent never passes a crash point).
TEST(FaultPoint, KillsAtTheNamedPassOnly) {
  EXPECT_EXIT(
      {
        ::setenv("LOA_FAULT_KILL_AT", "test.point@3", 1);
        LOA_FAULT_POINT("test.other");
        LOA_FAULT_POINT("test.point");
        LOA_FAULT_POINT("test.point");
        std::fprintf(stderr, "passed twice\n");
        LOA_FAULT_POINT("test.point");
        std::fprintf(stderr, "passed a third time\n");
        std::exit(0);
      },
      ::testing::KilledBySignal(SIGKILL), "passed twice\nloa: fault point test.point reached");
}

TEST(FaultPoint, WithoutAPassNumberTheFirstPassKills) {
  EXPECT_EXIT(
      {
        ::setenv("LOA_FAULT_KILL_AT", "test.point", 1);
        LOA_FAULT_POINT("test.point");
        std::exit(0);
      },
      ::testing::KilledBySignal(SIGKILL), "pass 1");
}

TEST(FaultPoint, UnarmedOrOtherPointsDoNothing) {
  EXPECT_EXIT(
      {
        ::unsetenv("LOA_FAULT_KILL_AT");
        for (int i = 0; i < 10; ++i) LOA_FAULT_POINT("test.point");
        std::exit(7);
      },
      ::testing::ExitedWithCode(7), "");
  EXPECT_EXIT(
      {
        ::setenv("LOA_FAULT_KILL_AT", "test.elsewhere@1", 1);
        for (int i = 0; i < 10; ++i) LOA_FAULT_POINT("test.point");
        std::exit(7);
      },
      ::testing::ExitedWithCode(7), "");
}

#else

TEST(FaultPoint, CompiledOutWithoutTheOption) {
  ::setenv("LOA_FAULT_KILL_AT", "test.point@1", 1);
  LOA_FAULT_POINT("test.point");  // nothing: this process is still here
  ::unsetenv("LOA_FAULT_KILL_AT");
  SUCCEED();
}

#endif

}  // namespace
