// The process's limit on open descriptors (RLIMIT_NOFILE), which bounds how many HTTP
// connections the daemon can hold. A shell's default soft limit is 1,024 while the hard limit
// is usually far higher; at 1,024 a flood of connections made accept(2) fail with EMFILE 247
// times in 25 s, and nobody got an answer. systemd's default for services is 524,288 hard.
//
// Contract: raise_open_file_limit() sets the soft limit to the hard one (setrlimit(2) lets
// any process do that) and reports both; it never fails the start: on an error it reports
// the limit unchanged.
//
// Thread-safety: call once at start-up, before threads open files.
#pragma once

#include <cstdint>

namespace loa::engine {

struct OpenFileLimit {
  std::uint64_t before = 0;  // the soft limit found
  std::uint64_t soft = 0;    // the soft limit now
  std::uint64_t hard = 0;    // RLIM_INFINITY is reported as UINT64_MAX
};

OpenFileLimit raise_open_file_limit();

}  // namespace loa::engine
