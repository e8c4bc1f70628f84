#include "campaigns/fault_point.hpp"

#if defined(LOA_FAULT_INJECTION)
#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <unistd.h>

namespace loa::fault {
namespace {

struct Armed {
  std::string point;  // empty: nothing armed
  long long at = 1;   // the pass that kills
};

Armed read_env() {
  Armed a;
  const char* v = std::getenv("LOA_FAULT_KILL_AT");
  if (v == nullptr || *v == '\0') return a;
  std::string s(v);
  if (const auto at = s.find('@'); at != std::string::npos) {
    a.at = std::atoll(s.c_str() + at + 1);
    s.resize(at);
  }
  if (a.at < 1) a.at = 1;
  a.point = s;
  std::fprintf(stderr, "loa: fault injection armed: SIGKILL at pass %lld of %s\n", a.at,
               a.point.c_str());
  return a;
}

}  // namespace

void hit(const char* point) {
  static const Armed armed = read_env();
  static std::atomic<long long> passes{0};
  if (armed.point.empty() || armed.point != point) return;
  const long long n = ++passes;
  if (n != armed.at) return;
  std::fprintf(stderr, "loa: fault point %s reached (pass %lld): raising SIGKILL\n", point, n);
  std::fflush(stderr);
  ::kill(::getpid(), SIGKILL);
  ::pause();  // SIGKILL cannot be caught; never returns
}

}  // namespace loa::fault
#endif
