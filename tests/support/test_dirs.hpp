// Test helpers for files and processes: temporary directories, the repository paths, and
// running the `loa` binary as a user would.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
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
