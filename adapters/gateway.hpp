// The gateway interface: what the dispatcher (engine/dispatcher.hpp) asks of an SMS or OTT
// gateway, and the one vocabulary of send outcomes (STYLE.md "Errors: one vocabulary per
// layer"). Every adapter classifies its gateway's raw answers into SendClass, once, here in
// adapters/; the dispatcher acts on the class only.
//
// Contract:
//  - async_send(batch, done) sends every message of the batch (the adapter may split it into
//    one request per message, or use a bulk API) and calls `done` exactly once, with exactly
//    one SendResult per message, in the batch's order. `done` may run on any thread; it must
//    not be called inline from async_send (post it), so callers never re-enter themselves.
//  - OutboundMessage::id is loa's message id. It travels to the gateway as its idempotency or
//    tracking key wherever the gateway has one (DESIGN.md 3.2), so a resend after a crash is
//    recognised by the gateway.
//  - Delivery reports and replies that the gateway pushes (or that a webhook receives for it)
//    reach the engine through the GatewayEvents sink given at construction.
//  - close() stops timers and refuses new sends (their results are kRetryable "closed"); it
//    is idempotent, and no callback runs after it returns except `done` of sends in flight.
//
// Thread-safety: async_send and close are safe from any thread.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace loa::adapters {

// How a send ended, decided by the adapter (STYLE.md).
enum class SendClass {
  kAccepted,     // the gateway took it; a delivery report may follow
  kRetryable,    // timeouts, 5xx, network errors: try again later
  kPermanent,    // bad number, rejected content: never try again
  kUnreachable,  // no Zalo account (-118), outside the OA window (-230): fall back
  kThrottled,    // the gateway asks us to slow down: the route backs off, no attempt spent
  kAuth,         // credentials expired: refresh the token, retry once
  // The whole request went out and the connection ended before any answer: the gateway may
  // have taken the message (a Kannel smsbox stopped after queuing it). Retried only after its
  // receipt had time to arrive (engine/dispatcher.hpp), so a receipt can cancel the retry.
  kMaybeSent,
};
std::string_view to_string(SendClass c);

struct OutboundMessage {
  std::string id;        // loa's message id (outbox id), the idempotency key
  std::string channel;   // "sms", "zalo_zns", "zalo_oa"
  std::string phone;     // E.164 "+8491…", for sms and zalo_zns
  std::string zalo_user; // for zalo_oa
  std::string body;      // the text, or the ZNS template id and JSON data
  int units = 1;         // SMS segments, or 1
};

struct SendResult {
  SendClass outcome = SendClass::kRetryable;
  std::string provider_id;  // the gateway's id for the message, when accepted
  std::string reason;       // short, for the outbox's last_error: "timeout", "http 500", ...
};

// A delivery report from the gateway.
struct DeliveryReceipt {
  std::string message_id;   // loa's id, when the gateway echoes it
  std::string provider_id;  // the gateway's id
  bool delivered = false;   // false: the gateway gave up on the handset
  std::string reason;       // for failures
  std::chrono::system_clock::time_point at;
};

// A message from a household.
struct Reply {
  std::string from_phone;  // E.164 when known
  std::string from_zalo_user;
  std::string text;
  std::string provider_id;  // the gateway's event id, for dedupe
  std::chrono::system_clock::time_point at;
};

// Where a gateway delivers what it pushes. Implementations must be cheap and non-blocking.
class GatewayEvents {
 public:
  virtual ~GatewayEvents() = default;
  virtual void on_receipt(DeliveryReceipt receipt) = 0;
  virtual void on_reply(Reply reply) = 0;
};

class Gateway {
 public:
  using SendDone = std::function<void(std::vector<SendResult>)>;

  virtual ~Gateway() = default;
  virtual std::string_view type() const = 0;
  virtual void async_send(std::vector<OutboundMessage> batch, SendDone done) = 0;
  virtual void close() = 0;
};

}  // namespace loa::adapters
