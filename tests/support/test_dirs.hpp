// Test helpers for files and processes: temporary directories, the repository paths, and
// running the `loa` binary as a user would.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

namespace loa::test {

// A fresh directory under /tmp (short, so unix socket paths fit), removed on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

std::filesystem::path source_dir();
std::filesystem::path loa_binary();
// LOA_FIXTURES_DIR, or <source>/../shared/fixtures, or (a worktree) <source>/../../shared/fixtures
std::filesystem::path fixtures_dir();

// Polls `done` every `every` until it holds (true) or `limit` has passed (false): how a test
// waits for an event on a loaded machine, never with a fixed sleep.
template <class Done>
bool eventually(Done done, std::chrono::milliseconds limit = std::chrono::seconds(60),
                std::chrono::milliseconds every = std::chrono::milliseconds(50)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(every);
  }
  return true;
}

// A loopback TCP port that was free a moment ago.
std::uint16_t free_port();

void write_file(const std::filesystem::path& path, const std::string& text);

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};
// Starts `argv` (argv[0] looked up in PATH) with stdout and stderr into `log` (appended to, or
// truncated first); returns its pid, for the caller to wait for.
int spawn_process(const std::vector<std::string>& argv, const std::filesystem::path& log,
                  bool append = false);

// Runs a shell command line (with a timeout in seconds) and captures its output.
CommandResult run_command(const std::string& command_line, int timeout_seconds = 60);

}  // namespace loa::test
