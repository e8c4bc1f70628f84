#include "tests/support/kannel_peer.hpp"
#include "tests/support/wait_until.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace loa::test {
namespace {

const char* kBearerbox = "/usr/sbin/bearerbox";
const char* kSmsbox = "/usr/sbin/smsbox";
const char* kFakesmsc = "/usr/lib/kannel/test/fakesmsc";

bool port_free(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

bool listening(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

std::string read_all(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

KannelPeer::KannelPeer(const std::string& mo_url) {
  for (const char* binary : {kBearerbox, kSmsbox, kFakesmsc})
    if (::access(binary, X_OK) != 0)
      throw std::runtime_error(std::string("Kannel is not installed: no ") + binary +
                               " (ops/install-deps installs kannel and kannel-extras)");
  // A base with its 12 ports free: admin +0, smsbox +1, sendsms +2, fake-mt +10, fake-mo +11.
  for (int attempt = 0; attempt < 50 && base_ == 0; ++attempt) {
    const int candidate = 20000 + static_cast<int>((::getpid() * 37 + attempt * 97) % 30000);
    bool ok = true;
    for (int offset : {0, 1, 2, 10, 11}) ok = ok && port_free(candidate + offset);
    if (ok) base_ = candidate;
  }
  if (base_ == 0) throw std::runtime_error("no free ports for Kannel");
  const std::string dir = dir_.path().string();
  std::ofstream conf(dir_ / "kannel.conf");
  conf << "group = core\n"
       << "admin-port = " << base_ << "\nadmin-interface = 127.0.0.1\n"
       << "admin-password = admin-secret\nadmin-deny-ip = \"*.*.*.*\"\n"
       << "admin-allow-ip = \"127.0.0.1\"\n"
       << "smsbox-port = " << base_ + 1 << "\nsmsbox-interface = 127.0.0.1\n"
       << "box-deny-ip = \"*.*.*.*\"\nbox-allow-ip = \"127.0.0.1\"\n"
       << "log-file = \"" << dir << "/bearerbox.log\"\nlog-level = 1\n"
       << "store-type = file\nstore-location = \"" << dir << "/kannel.store\"\n"
       << "dlr-storage = internal\n\n"
       << "group = smsc\nsmsc = fake\nsmsc-id = fake-mt\nport = " << base_ + 10
       << "\nour-host = 127.0.0.1\nconnect-allow-ip = 127.0.0.1\nthroughput = 0\n\n"
       << "group = smsc\nsmsc = fake\nsmsc-id = fake-mo\nport = " << base_ + 11
       << "\nour-host = 127.0.0.1\nconnect-allow-ip = 127.0.0.1\nallowed-smsc-id = fake-mo\n\n"
       << "group = smsbox\nbearerbox-host = 127.0.0.1\nbearerbox-port = " << base_ + 1
       << "\nsendsms-port = " << base_ + 2 << "\nsendsms-interface = 127.0.0.1\n"
       << "mo-recode = yes\nlog-file = \"" << dir << "/smsbox.log\"\nlog-level = 1\n\n"
       << "group = sendsms-user\nusername = " << kUser << "\npassword = " << kPassword
       << "\nuser-allow-ip = 127.0.0.1\nmax-messages = 10\nconcatenation = true\n\n"
       << "group = sms-service\nkeyword = default\ncatch-all = true\nget-url = \"" << mo_url
       << "\"\nmax-messages = 0\nomit-empty = true\n";
  conf.close();
  const std::string conf_path = (dir_ / "kannel.conf").string();
  pids_.push_back(spawn({kBearerbox, "-v", "2", conf_path}, dir + "/bearerbox.stderr"));
  wait_until([&] { return listening(base_ + 1); }, kEventually, std::chrono::milliseconds(50));
  pids_.push_back(spawn({kSmsbox, "-v", "2", conf_path}, dir + "/smsbox.stderr"));
  pids_.push_back(spawn({kFakesmsc, "-H", "127.0.0.1", "-r", std::to_string(base_ + 10), "-m", "0",
                         "0 0 text unused"},
                        dir + "/fakesmsc-mt.log"));
  wait_until([&] { return listening(base_ + 2); }, kEventually, std::chrono::milliseconds(50));
  if (!listening(base_ + 2))
    throw std::runtime_error("Kannel's smsbox did not come up; see " + dir + ":\n" + logs());
}

KannelPeer::~KannelPeer() {
  for (auto it = pids_.rbegin(); it != pids_.rend(); ++it) stop(*it);
}

std::string KannelPeer::sendsms_url() const {
  return "http://127.0.0.1:" + std::to_string(base_ + 2) + "/cgi-bin/sendsms";
}

std::vector<std::string> KannelPeer::received() const {
  std::vector<std::string> out;
  std::istringstream log(read_all(dir_ / "fakesmsc-mt.log"));
  for (std::string line; std::getline(log, line);) {
    const auto at = line.find("Got message ");
    if (at == std::string::npos) continue;
    const auto open = line.find('<', at);
    const auto close = line.rfind('>');
    if (open != std::string::npos && close != std::string::npos && close > open)
      out.push_back(line.substr(open + 1, close - open - 1));
  }
  return out;
}

std::size_t KannelPeer::received_count() const {
  // Reads on from where the last call stopped (complete lines only): the log grows by a line
  // per MT, and benchmarks poll it while 100,000 arrive.
  std::ifstream log(dir_ / "fakesmsc-mt.log", std::ios::binary);
  log.seekg(static_cast<std::streamoff>(count_offset_));
  for (std::string line; std::getline(log, line);) {
    if (log.eof()) break;  // a partial last line: count it next time
    count_offset_ += line.size() + 1;
    count_ += line.find("Got message ") != std::string::npos;
  }
  return count_;
}

std::vector<double> KannelPeer::cpu_seconds() const {
  std::vector<double> out;
  const double tick = static_cast<double>(::sysconf(_SC_CLK_TCK));
  for (const pid_t pid : pids_) {
    // Field 2 (comm) is in parentheses; utime and stime are fields 14 and 15.
    const std::string stat = read_all("/proc/" + std::to_string(pid) + "/stat");
    const auto close = stat.rfind(')');
    double seconds = 0;
    if (close != std::string::npos) {
      std::istringstream fields(stat.substr(close + 2));
      std::string field;
      unsigned long long utime = 0, stime = 0;
      for (int i = 3; i <= 15 && fields >> field; ++i) {
        if (i == 14) utime = std::stoull(field);
        if (i == 15) stime = std::stoull(field);
      }
      seconds = static_cast<double>(utime + stime) / tick;
    }
    out.push_back(seconds);
  }
  return out;
}

void KannelPeer::send_mo(const std::string& sender, const std::string& receiver,
                         const std::string& text) {
  const std::string log = (dir_ / "fakesmsc-mo.log").string();
  const pid_t pid = spawn({kFakesmsc, "-H", "127.0.0.1", "-r", std::to_string(base_ + 11), "-m",
                           "1", sender + " " + receiver + " text " + text},
                          log);
  wait_until([&] { return read_all(log).find("sent message 1") != std::string::npos; }, kEventually,
             std::chrono::milliseconds(50));
  stop(pid);
}

std::string KannelPeer::logs() const {
  std::string out;
  for (const char* name : {"bearerbox.stderr", "smsbox.stderr", "bearerbox.log", "smsbox.log"}) {
    const std::string text = read_all(dir_ / name);
    out += std::string("== ") + name + "\n" +
           (text.size() > 4000 ? text.substr(text.size() - 4000) : text);
  }
  return out;
}

pid_t KannelPeer::spawn(const std::vector<std::string>& argv, const std::string& log) {
  return spawn_process(argv, log, /*append=*/true);
}

void KannelPeer::stop(pid_t pid) {
  if (pid <= 0) return;
  ::kill(pid, SIGINT);
  // Kannel's boxes take about 0.3 s to stop (kannel-facts.md); a generous grace, then SIGKILL.
  if (wait_until([&] { return ::waitpid(pid, nullptr, WNOHANG) == pid; }, std::chrono::seconds(10),
                 std::chrono::milliseconds(20)))
    return;
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
}

}  // namespace loa::test
