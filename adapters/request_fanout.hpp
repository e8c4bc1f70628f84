// What every adapter that sends one HTTP request per message shares: it sends the batch's
// requests through the HttpClient at once (the client's per-host connection cap bounds the
// concurrency), classifies each answer with the adapter's own rules, and answers the whole
// batch once, in order, as adapters/gateway.hpp requires. It also holds the adapter's closed
// state, and the classification that does not depend on the gateway: transport failures and
// bare HTTP statuses.
//
// Contract:
//  - send(): `prepare` runs inline for each message, in order; it returns the request, or the
//    message's result when it cannot be sent at all (a bad phone: nothing goes out). `classify`
//    runs once per response that arrived, on any thread, possibly several at once; it must not
//    throw. A request that failed in transport is classified by classify_transport() instead.
//    `done` runs exactly once, never inline, with one result per message in batch order.
//  - After close(), send() answers every message kRetryable "closed" (posted); requests already
//    in flight still complete and answer as usual.
//  - Nothing here refers to the adapter after send() returns, so an adapter may be destroyed with
//    requests in flight; whatever `prepare` and `classify` capture must stay valid on its own
//    (capture shared_ptrs, never `this`).
//
// Thread-safety: send and close are safe from any thread.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/system/error_code.hpp>

#include <atomic>
#include <functional>
#include <memory>
#include <variant>
#include <vector>

#include "adapters/gateway.hpp"
#include "adapters/http_client.hpp"

namespace loa::adapters {

// A transport failure: nothing is known about the message. Timeouts, refused connections,
// connections reset before the request got out, TLS and DNS failures are kRetryable (the gateway
// deduplicates by our id where it can, DESIGN.md 3.2); the client's own push-back (kBusy) is
// kThrottled; a request the client refused to build (kInvalidRequest: a bad URL in the config) is
// kPermanent; a request sent whole and then cut off without an answer (kNoAnswer) is kMaybeSent.
SendResult classify_transport(boost::system::error_code ec);

// What an HTTP status says on its own (RFC 9110 §15), for answers the adapter's own rules do
// not decide: 2xx kAccepted, 429 kThrottled, 401 and 403 kAuth, 408 and 5xx kRetryable, any other
// status kPermanent.
SendClass class_of_status(long status);

class RequestFanout {
 public:
  // A request, or the message's result without one.
  using Prepared = std::variant<HttpRequest, SendResult>;
  using Prepare = std::function<Prepared(const OutboundMessage&)>;
  using Classify = std::function<SendResult(const OutboundMessage&, const HttpResponse&)>;

  RequestFanout(boost::asio::any_io_executor executor, std::shared_ptr<HttpClient> http);

  void send(std::vector<OutboundMessage> batch, const Prepare& prepare, Classify classify,
            Gateway::SendDone done);
  void close() { closed_ = true; }

 private:
  boost::asio::any_io_executor executor_;
  std::shared_ptr<HttpClient> http_;
  std::atomic<bool> closed_{false};
};

}  // namespace loa::adapters
