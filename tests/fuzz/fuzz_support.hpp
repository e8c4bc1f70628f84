// Helpers shared by the libFuzzer targets (tests/fuzz/*_fuzz.cpp).
//
// FUZZ_CHECK(cond, what): an invariant of the code under test. On failure it prints the
// condition, the place and `what` (a std::string or string literal), then aborts, which
// libFuzzer reports as a crash and saves the input. Unlike assert() it is never compiled out.
//
// FuzzInput: carves the fuzzer's bytes into option bytes and text, so that one input both picks
// the settings and carries the document. Running out of bytes yields zeros and empty text.
//
// Thread-safety: none needed; a fuzz target runs on one thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "templates/utf8.hpp"

#define FUZZ_CHECK(cond, what)                                                              \
  do {                                                                                      \
    if (!(cond)) {                                                                          \
      std::fprintf(stderr, "\nFUZZ_CHECK failed: %s\n  at %s:%d\n  %s\n", #cond, __FILE__, \
                   __LINE__, std::string(what).c_str());                                    \
      std::abort();                                                                         \
    }                                                                                       \
  } while (false)

namespace loa::fuzz {

class FuzzInput {
 public:
  FuzzInput(const std::uint8_t* data, std::size_t size)
      : rest_(reinterpret_cast<const char*>(data), size) {}

  // The next byte, or 0 when the input is used up.
  std::uint8_t byte() {
    if (rest_.empty()) return 0;
    const auto b = static_cast<std::uint8_t>(rest_.front());
    rest_.remove_prefix(1);
    return b;
  }
  // Up to the next `separator` (consumed), or everything left.
  std::string_view until(char separator) {
    const auto at = rest_.find(separator);
    const std::string_view part = rest_.substr(0, at);
    rest_ = at == std::string_view::npos ? std::string_view() : rest_.substr(at + 1);
    return part;
  }
  std::string_view rest() const { return rest_; }

 private:
  std::string_view rest_;
};

inline bool is_utf8(std::string_view s) {
  return templates::find_invalid_utf8(s) == std::string_view::npos;
}

// True when `s` holds a run of at least `n` ASCII digits (what a phone number looks like).
inline bool has_digit_run(std::string_view s, std::size_t n) {
  std::size_t run = 0;
  for (const char c : s) {
    run = (c >= '0' && c <= '9') ? run + 1 : 0;
    if (run >= n) return true;
  }
  return false;
}

}  // namespace loa::fuzz
