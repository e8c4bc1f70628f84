// Waiting in tests for something another thread or process does: a condition polled until it
// holds or a deadline passes, never a fixed sleep that guesses how long the work takes.
//
// Deadlines are generous (seconds, not milliseconds) because CI machines are shared: a test runs
// as fast as the condition comes true, and the deadline only bounds a test that would otherwise
// hang. `LOA_TEST_STRESS=1 ops/test` runs the suite with every core loaded to keep it so.
//
// Thread-safety: the predicate runs on the calling thread only.
#pragma once

#include <chrono>
#include <thread>

namespace loa::test {

// The deadline for "soon" on a loaded machine.
inline constexpr std::chrono::seconds kEventually{30};

// True once `done()` holds; false if `deadline` passed first (done() is then tried a last time).
template <class Predicate>
bool wait_until(Predicate&& done, std::chrono::steady_clock::duration deadline = kEventually,
                std::chrono::milliseconds poll = std::chrono::milliseconds(10)) {
  const auto until = std::chrono::steady_clock::now() + deadline;
  while (std::chrono::steady_clock::now() < until) {
    if (done()) return true;
    std::this_thread::sleep_for(poll);  // the one poll interval of the test suite
  }
  return static_cast<bool>(done());
}

}  // namespace loa::test
