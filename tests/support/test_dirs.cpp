#include "tests/support/test_dirs.hpp"

#include "engine/redis_process.hpp"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <stdexcept>

namespace loa::test {
namespace fs = std::filesystem;

TempDir::TempDir() {
  std::string templ = "/tmp/loa-test-XXXXXX";
  if (!::mkdtemp(templ.data())) throw std::runtime_error("mkdtemp failed");
  path_ = templ;
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

int spawn_process(const std::vector<std::string>& argv, const fs::path& log, bool append) {
  // Built before fork(): a child of a threaded process may only make async-signal-safe calls
  // before exec (see LoaProcess).
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const std::string log_path = log.string();
  const int flags = O_WRONLY | O_CREAT | (append ? O_APPEND : O_TRUNC);
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int fd = ::open(log_path.c_str(), flags, 0600);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
    }
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  return pid;
}

fs::path source_dir() { return LOA_SOURCE_DIR; }
fs::path loa_binary() { return fs::path(LOA_BINARY_DIR) / "engine" / "loa"; }

fs::path fixtures_dir() {
  if (const char* env = std::getenv("LOA_FIXTURES_DIR")) return env;
  // CI checks out beside shared/; a worktree under wt/ sits one level deeper.
  const fs::path beside = source_dir().parent_path() / "shared" / "fixtures";
  const fs::path above = source_dir().parent_path().parent_path() / "shared" / "fixtures";
  return fs::exists(beside) || !fs::exists(above) ? beside : above;
}

std::uint16_t free_port() { return engine::RedisProcess::free_loopback_port(); }

void write_file(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

CommandResult run_command(const std::string& command_line, int timeout_seconds) {
  CommandResult result;
  const std::string cmd =
      "timeout -s KILL " + std::to_string(timeout_seconds) + " env " + command_line + " 2>&1";
  FILE* pipe = ::popen(cmd.c_str(), "r");
  if (!pipe) return result;
  std::array<char, 4096> buf;
  std::size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0) result.output.append(buf.data(), n);
  const int status = ::pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

}  // namespace loa::test
