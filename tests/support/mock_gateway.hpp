// A mock HTTP gateway for adapter tests: a small HTTP/1.1 server (Boost.Beast) on
// 127.0.0.1 and a free port, on a thread of its own. It records every request in the order it
// arrived and answers each with whatever the test's handler returns (status, headers, body,
// and an optional delay before answering), keeping connections alive as HTTP/1.1 does. It
// counts the connections it accepted, so a test can assert that a client reuses them.
//
// Contract:
//  - The handler runs on the mock's thread, one request at a time; a delay does not hold up
//    other connections. Requests are recorded before the handler runs.
//  - Request bodies may be up to 16 MB. A request the mock cannot parse (TLS, say) closes its
//    connection unanswered.
//  - The destructor stops the server and closes every connection, answered or not.
//
// Thread-safety: every member is safe from any thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace loa::test {

struct MockRequest {
  std::string method;
  std::string target;                                        // path and query, as sent
  std::vector<std::pair<std::string, std::string>> headers;  // in order, as spelled
  std::string body;
  std::size_t connection = 0;  // which accepted connection it came on (1, 2, ...)

  // The first header of that name (ASCII case-insensitive), or "" when there is none.
  std::string header(std::string_view name) const;
};

struct MockResponse {
  unsigned status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::chrono::milliseconds delay{0};  // before the response is written
  bool chunked = false;                // chunked transfer encoding instead of Content-Length
  // Close the connection (after the delay) without answering: a gateway that took the
  // request and died before it replied (a Kannel smsbox stopped mid-request).
  bool cut = false;
};

class MockGateway {
 public:
  using Handler = std::function<MockResponse(const MockRequest&)>;

  // Listens at once; throws boost::system::system_error when it cannot.
  explicit MockGateway(Handler handler = {});
  ~MockGateway();
  MockGateway(const MockGateway&) = delete;
  MockGateway& operator=(const MockGateway&) = delete;

  std::uint16_t port() const;
  std::string url(std::string_view path) const;  // "http://127.0.0.1:<port>" + path

  std::vector<MockRequest> requests() const;
  std::size_t connections() const;       // accepted so far
  std::size_t open_connections() const;  // open now
  std::size_t peak_connections() const;  // the most open at once

  // A null handler answers 200 with an empty body.
  void set_handler(Handler handler);

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace loa::test
