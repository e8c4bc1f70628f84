#include "tests/support/loa_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string_view>
#include <thread>

#include "tests/support/http_client.hpp"
#include "tests/support/test_dirs.hpp"
#include "tests/support/wait_until.hpp"

namespace loa::test {

LoaProcess::LoaProcess(std::vector<std::string> args, std::map<std::string, std::string> env,
                       std::filesystem::path log)
    : log_(std::move(log)) {
  // Everything the child needs is built here, before fork(): the test process has threads (an
  // io_context, Redis clients), and a child of a threaded process may only make
  // async-signal-safe calls before exec. An allocation there (setenv, a std::string) can wait
  // forever on an allocator lock another thread held at the fork; the daemon then never starts
  // and writes no log.
  const std::string binary = loa_binary().string();
  std::vector<std::string> environment;
  for (char** e = environ; *e; ++e) {
    const std::string_view entry(*e);
    const auto name = entry.substr(0, entry.find('='));
    if (!env.contains(std::string(name))) environment.emplace_back(entry);
  }
  for (const auto& [k, v] : env) environment.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& e : environment) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::vector<char*> argv{const_cast<char*>("loa")};
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const std::string log_path = log_.string();

  pid_ = ::fork();
  if (pid_ == 0) {
    const int fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
    }
    ::execve(binary.c_str(), argv.data(), envp.data());
    ::_exit(127);
  }
}

LoaProcess::~LoaProcess() {
  if (pid_ > 0 && status_ == -1) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
}

void LoaProcess::signal(int signo) {
  if (pid_ > 0 && status_ == -1) ::kill(pid_, signo);
}

int LoaProcess::wait(std::chrono::milliseconds limit) {
  if (status_ != -1) return status_;
  int st = 0;
  if (!wait_until([&] { return ::wait4(pid_, &st, WNOHANG, &usage_) == pid_; }, limit,
                  std::chrono::milliseconds(20)))
    return -1;
  status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  return status_;
}

std::string LoaProcess::log() const {
  std::ifstream in(log_);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

bool becomes_ready(std::uint16_t port, std::chrono::milliseconds limit) {
  return wait_until(
      [&] {
        try {
          return http_request(port, "GET", "/readyz").status == 200;
        } catch (const std::exception&) {
          return false;  // not listening yet
        }
      },
      limit, std::chrono::milliseconds(50));
}

}  // namespace loa::test
