// A minimal, fast HTTP/1.1 server on 127.0.0.1 for benchmarks: the loopback "gateway" that the
// http adapter fans out to, and the delivery-report sink that Kannel calls back. Unlike
// MockGateway it records nothing but counters, parses only what it must (the request line,
// Content-Length, Connection: close), answers pipelined requests in one write, and runs on
// threads of its own, so it is not the bottleneck of what it measures (its own ceiling is
// measured with wrk by the benchmarks that use it).
//
// Contract:
//  - Every request is answered `200 OK` with the fixed body given at construction and kept
//    alive unless the client sent "Connection: close". Request heads over 64 KB or bodies over
//    1 MB close the connection unanswered.
//  - requests() counts complete requests; matching() counts those whose request line or body
//    contains the substring given at construction (e.g. "status=1" for final DLRs).
//  - The listen backlog is the system's maximum: Kannel's smsbox opens many connections at
//    once for its callbacks (reference/kannel-facts.md, "Listener backlog matters").
//  - The destructor stops the server and closes every connection.
//
// Thread-safety: every member is safe from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace loa::test {

class HttpSink {
 public:
  // Listens at once; throws boost::system::system_error when it cannot.
  explicit HttpSink(std::string body = "OK", std::string count_substring = {},
                    unsigned threads = 1);
  ~HttpSink();
  HttpSink(const HttpSink&) = delete;
  HttpSink& operator=(const HttpSink&) = delete;

  std::uint16_t port() const;
  std::string url(std::string_view path) const;  // "http://127.0.0.1:<port>" + path

  std::uint64_t requests() const;
  std::uint64_t matching() const;
  std::size_t peak_connections() const;  // the most open at once

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace loa::test
