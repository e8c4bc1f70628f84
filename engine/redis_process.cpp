#include "engine/redis_process.hpp"

#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

namespace loa::engine {
namespace fs = std::filesystem;

std::uint16_t RedisProcess::free_loopback_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  std::uint16_t port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0)
    port = ntohs(addr.sin_port);
  ::close(fd);
  return port;
}

RedisProcess::RedisProcess(Options options) : options_(std::move(options)) {}

RedisProcess::~RedisProcess() {
  try {
    stop(std::chrono::seconds(5));
  } catch (...) {
    // Never throw from a destructor.
  }
}

std::optional<std::string> RedisProcess::find_binary(const std::string& name) {
  if (name.find('/') != std::string::npos)
    return ::access(name.c_str(), X_OK) == 0 ? std::optional(name) : std::nullopt;
  std::string path = std::getenv("PATH") ? std::getenv("PATH") : "";
  path += ":/usr/bin:/usr/sbin:/usr/local/bin";  // redis-server lives in /usr/bin on Debian
  std::stringstream ss(path);
  std::string dir;
  while (std::getline(ss, dir, ':')) {
    if (dir.empty()) continue;
    std::string candidate = dir + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return std::nullopt;
}

std::string RedisProcess::socket_path() const { return (options_.dir / "redis.sock").string(); }
std::string RedisProcess::url() const { return "unix://" + socket_path(); }

void RedisProcess::start() {
  if (running()) return;
  auto binary = find_binary(options_.binary);
  if (!binary)
    throw RedisProcessError(
        "redis-server not found (looked for '" + options_.binary +
        "' in PATH). Install it with `apt-get install redis-server` (or run ops/install-deps), "
        "set redis.server_binary to its path, or point redis.url at an external server");
  std::error_code ec;
  fs::create_directories(options_.dir, ec);
  if (ec)
    throw RedisProcessError("cannot create the Redis directory " + options_.dir.string() + ": " +
                            ec.message());
  const std::string sock = socket_path();
  if (sock.size() >= sizeof(sockaddr_un::sun_path))
    throw RedisProcessError("the Redis socket path " + sock + " is longer than " +
                            std::to_string(sizeof(sockaddr_un::sun_path) - 1) +
                            " bytes; choose a shorter daemon.data_dir");
  if (options_.tcp_port) port_ = *options_.tcp_port ? *options_.tcp_port : free_loopback_port();

  std::vector<std::string> args = {
      *binary,         "--port",           std::to_string(port_),
      "--bind",        "127.0.0.1",        "--unixsocket",
      sock,            "--unixsocketperm", "700",
      "--dir",         options_.dir.string(), "--appendonly",
      options_.appendonly ? "yes" : "no", "--appendfsync", "everysec",
      "--save",        "",                 "--daemonize",
      "no",            "--logfile",        (options_.dir / "redis.log").string(),
      "--protected-mode", "yes"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  const pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) throw RedisProcessError("cannot fork redis-server");
  if (pid == 0) {
    // Child: only async-signal-safe calls until exec.
    ::setpgid(0, 0);
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != parent) ::_exit(1);
    int devnull = ::open("/dev/null", O_RDWR);
    if (devnull >= 0) {
      ::dup2(devnull, 0);
      ::dup2(devnull, 1);
    }
    for (int fd = 3; fd < 1024; ++fd) ::close(fd);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  pid_ = pid;
  std::string why;
  if (!wait_ready(why)) {
    std::string tail = log_tail();
    stop(std::chrono::seconds(2));
    throw RedisProcessError("redis-server did not start: " + why +
                            (tail.empty() ? "" : "; its log ends with: " + tail));
  }
}

bool RedisProcess::wait_ready(std::string& why) {
  const auto deadline = std::chrono::steady_clock::now() + options_.start_timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      why = "it exited with status " + std::to_string(WIFEXITED(status) ? WEXITSTATUS(status)
                                                                         : 128 + WTERMSIG(status));
      return false;
    }
    timeval tv{0, 200000};
    if (redisContext* c = redisConnectUnixWithTimeout(socket_path().c_str(), tv)) {
      bool ok = false;
      if (!c->err) {
        if (auto* r = static_cast<redisReply*>(redisCommand(c, "PING"))) {
          ok = r->type == REDIS_REPLY_STATUS && std::string(r->str, r->len) == "PONG";
          freeReplyObject(r);
        }
      }
      redisFree(c);
      if (ok) return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  why = "no answer on " + socket_path() + " within " +
        std::to_string(options_.start_timeout.count()) + " ms";
  return false;
}

std::string RedisProcess::log_tail() const {
  std::ifstream in(options_.dir / "redis.log");
  std::string line, last;
  while (std::getline(in, line))
    if (!line.empty()) last = line;
  return last;
}

void RedisProcess::stop(std::chrono::milliseconds grace) {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGCONT);  // a paused server cannot act on SIGTERM
  ::kill(pid_, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + grace;
  int status = 0;
  while (::waitpid(pid_, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() >= deadline) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  pid_ = -1;
}

std::optional<std::string> RedisProcess::reap() {
  if (pid_ <= 0) return std::nullopt;
  int status = 0;
  if (::waitpid(pid_, &status, WNOHANG) != pid_) return std::nullopt;
  pid_ = -1;
  return WIFSIGNALED(status) ? "signal " + std::to_string(WTERMSIG(status))
                             : "exit status " + std::to_string(WEXITSTATUS(status));
}

void RedisProcess::kill_hard() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

void RedisProcess::pause() {
  if (pid_ > 0) ::kill(pid_, SIGSTOP);
}
void RedisProcess::resume() {
  if (pid_ > 0) ::kill(pid_, SIGCONT);
}

}  // namespace loa::engine
