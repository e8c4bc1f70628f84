#include "tests/support/loa_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "tests/support/http_client.hpp"
#include "tests/support/test_dirs.hpp"

namespace loa::test {

LoaProcess::LoaProcess(std::vector<std::string> args, std::map<std::string, std::string> env,
                       std::filesystem::path log)
    : log_(std::move(log)) {
  pid_ = ::fork();
  if (pid_ == 0) {
    const int fd = ::open(log_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
    }
    for (const auto& [k, v] : env) ::setenv(k.c_str(), v.c_str(), 1);
    const std::string binary = loa_binary().string();
    std::vector<char*> argv{const_cast<char*>("loa")};
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(binary.c_str(), argv.data());
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
  const auto until = std::chrono::steady_clock::now() + limit;
  int st = 0;
  while (std::chrono::steady_clock::now() < until) {
    if (::wait4(pid_, &st, WNOHANG, &usage_) == pid_) {
      status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
      return status_;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return -1;
}

std::string LoaProcess::log() const {
  std::ifstream in(log_);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

bool becomes_ready(std::uint16_t port, std::chrono::milliseconds limit) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < until) {
    try {
      if (http_request(port, "GET", "/readyz").status == 200) return true;
    } catch (const std::exception&) {
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

}  // namespace loa::test
