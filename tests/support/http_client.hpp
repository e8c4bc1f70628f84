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
// `source`: the local address to connect from (any of 127.0.0.0/8 is loopback), to look like
// another client.
std::string raw_exchange(std::uint16_t port, const std::string& bytes, int timeout_ms = 3000,
                         const std::string& source = "");

// An upload as browsers and curl send one: the head (request line and header fields, ending
// in a blank line), then `body_bytes` of body, or none before a 100 Continue when the head
// carries Expect: 100-continue. Sending stops as soon as an answer arrives (or the server
// stops reading); the answer is then read to its end. `error` says "reset" when the
// connection was reset before a final answer could be read.
// `whole_body_first`: as simple clients do (and tests/support http_request), send the whole
// body before reading anything, and give up when a send fails: a server that closes on a
// body it has not read resets such a client, which never sees the answer.
HttpResult send_upload(std::uint16_t port, const std::string& head, std::uint64_t body_bytes,
                       bool whole_body_first = false, int timeout_ms = 60000);

}  // namespace loa::test
