// A real Kannel (Debian's bearerbox and smsbox, with fakesmsc from kannel-extras as the SMS
// centre) on private loopback ports, for the kannel adapter's end-to-end test. The set-up
// follows reference/kannel-facts.md: one fake link for MTs, which a long-running fakesmsc
// receives, and a second one (allowed-smsc-id) that one-shot fakesmsc runs use to inject MOs.
// Every process is stopped on destruction, by PID.
//
// Thread-safety: one thread at a time.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "tests/support/test_dirs.hpp"

namespace loa::test {

class KannelPeer {
 public:
  static constexpr const char* kUser = "loa";
  static constexpr const char* kPassword = "loa-secret";

  // `mo_url`: smsbox's get-url, with Kannel's % escapes. Throws when Kannel is missing or does
  // not come up (the message names the log to read).
  explicit KannelPeer(const std::string& mo_url);
  ~KannelPeer();
  KannelPeer(const KannelPeer&) = delete;
  KannelPeer& operator=(const KannelPeer&) = delete;

  std::string sendsms_url() const;
  // bearerbox's port for boxes (smsbox, mtbatch).
  int smsbox_port() const { return base_ + 1; }
  // The MT lines fakesmsc received ("8088 84901234567 ucs-2 ..."), in order.
  std::vector<std::string> received() const;
  // How many MTs fakesmsc has received (counts its log lines without keeping them).
  std::size_t received_count() const;
  // CPU seconds (user + system) used so far by bearerbox, smsbox and the MT fakesmsc, from
  // /proc/<pid>/stat, in that order.
  std::vector<double> cpu_seconds() const;
  // Sends one MO from `sender` to `receiver` through the MO link (fakesmsc `text` type: the
  // UTF-8 bytes pass unchanged), and returns once fakesmsc has sent it.
  void send_mo(const std::string& sender, const std::string& receiver, const std::string& text);
  std::string logs() const;

 private:
  pid_t spawn(const std::vector<std::string>& argv, const std::string& log);
  void stop(pid_t pid);

  TempDir dir_;
  int base_ = 0;
  std::vector<pid_t> pids_;  // bearerbox, smsbox, the MT fakesmsc
  mutable std::size_t count_offset_ = 0, count_ = 0;  // received_count() so far
};

}  // namespace loa::test
