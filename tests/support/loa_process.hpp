// A `loa` process for tests that need several daemons (dispatchers sharing a Redis) or must
// kill one: started with its own environment, its output in a log file, killed (SIGKILL) on
// destruction if still running.
#pragma once

#include <sys/resource.h>
#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace loa::test {

class LoaProcess {
 public:
  LoaProcess(std::vector<std::string> args, std::map<std::string, std::string> env,
             std::filesystem::path log);
  ~LoaProcess();
  LoaProcess(const LoaProcess&) = delete;
  LoaProcess& operator=(const LoaProcess&) = delete;

  pid_t pid() const { return pid_; }
  void signal(int signo);
  // Waits for the exit; returns the exit code, 128+signal when killed, -1 on timeout.
  int wait(std::chrono::milliseconds limit = std::chrono::seconds(30));
  std::string log() const;
  // Resources the process used, once wait() has seen it exit.
  const rusage& usage() const { return usage_; }

 private:
  rusage usage_{};
  pid_t pid_ = -1;
  std::filesystem::path log_;
  int status_ = -1;
};

// Polls `GET /readyz` on 127.0.0.1:port until it answers 200.
bool becomes_ready(std::uint16_t port, std::chrono::milliseconds limit = std::chrono::seconds(30));

}  // namespace loa::test
