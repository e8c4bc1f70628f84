// A small blocking HTTP client for tests, over real loopback sockets.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace loa::test {

struct HttpResult {
  int status = 0;  // 0: no answer (connection refused, closed or timed out)
  std::string body;
  std::string error;
  std::vector<std::pair<std::string, std::string>> headers;  // as received
  std::string header(const std::string& name) const;          // "" when absent
};

HttpResult http_request(std::uint16_t port, const std::string& method, const std::string& target,
                        const std::string& body = "",
                        const std::vector<std::pair<std::string, std::string>>& headers = {},
                        int timeout_ms = 5000);

// Sends raw bytes and returns whatever comes back until the peer closes or the timeout ends.
std::string raw_exchange(std::uint16_t port, const std::string& bytes, int timeout_ms = 3000);

}  // namespace loa::test
