#include "engine/open_files.hpp"

#include <sys/resource.h>

#include <limits>

namespace loa::engine {
namespace {
std::uint64_t as_count(rlim_t v) {
  return v == RLIM_INFINITY ? std::numeric_limits<std::uint64_t>::max()
                            : static_cast<std::uint64_t>(v);
}
}  // namespace

OpenFileLimit raise_open_file_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return {};
  OpenFileLimit out{as_count(limit.rlim_cur), as_count(limit.rlim_cur), as_count(limit.rlim_max)};
  if (limit.rlim_cur == limit.rlim_max) return out;
  rlimit raised = limit;
  raised.rlim_cur = limit.rlim_max;
  // An unlimited hard limit cannot be the soft one on Linux (fs.nr_open caps it): keep the
  // found limit then, rather than guess at nr_open.
  if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) out.soft = as_count(raised.rlim_cur);
  return out;
}

}  // namespace loa::engine
