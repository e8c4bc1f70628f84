// Carries what a gateway pushes (delivery receipts, household replies) to its route's results
// stream, where the store writer picks it up (engine/result_consumer.hpp) like any outcome.
// It is the adapters::GatewayEvents sink that a dispatching process gives its gateways.
//
// Two paths in:
//  - accept() is the webhooks' path, which acknowledges only what is durable (issue [W2 1/9]):
//    the events go to the results stream at once (one XADD), or, when Redis is down or the
//    spool still holds older events, into the route's spool (engine/event_spool.hpp, fsynced).
//    `done(true)` means they are in one or the other, and the webhook may answer 2xx;
//    `done(false)` (no Redis and the spool full or failing, or no spool) means 503, so that
//    the gateway retries.
//  - on_receipt/on_reply (gateways that push events themselves) never block: events are
//    buffered and published every `flush_every` in one XADD per batch. The buffer holds at
//    most `capacity` events; beyond that new events are counted as dropped and logged (a
//    receipt lost leaves its message at `sent`, never loses it). A failed publish keeps the
//    batch and tries again at the next flush.
// Every flush first drains the spool, oldest record first, while Redis takes them; so the
// events of one household reach the store in the order they were acknowledged.
// stop() publishes what is buffered (one last attempt) and spools what Redis did not take.
// A final receipt (delivered, or given up) marks its message sent on the route in the same step
// as it is published (RouteQueue::publish_receipts), so a retry of the message still waiting is
// dropped, not sent again; on either path in, and when the spool is drained.
//
// Thread-safety: accept/on_receipt/on_reply from any thread; start/stop from one thread.
#pragma once

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "adapters/gateway.hpp"
#include "campaigns/outbox_event.hpp"
#include "engine/event_spool.hpp"
#include "engine/route_queue.hpp"

namespace loa::engine {

class ReceiptRelay : public adapters::GatewayEvents {
 public:
  // `spool` may be null (tests, benchmarks): accept() then answers false whenever Redis does
  // not take the events.
  ReceiptRelay(boost::asio::io_context& io, std::shared_ptr<RedisClient> redis, std::string route,
               std::shared_ptr<EventSpool> spool = nullptr, std::size_t capacity = 200000,
               std::chrono::milliseconds flush_every = std::chrono::milliseconds(100));
  ~ReceiptRelay() override;

  void start();
  void stop();

  void on_receipt(adapters::DeliveryReceipt receipt) override;
  void on_reply(adapters::Reply reply) override;

  // Makes `events` durable, then calls `done` (on the relay's strand) with whether they are.
  void accept(std::vector<campaigns::OutboxEvent> events, std::function<void(bool)> done);
  campaigns::OutboxEvent event_of(adapters::DeliveryReceipt receipt) const;
  campaigns::OutboxEvent event_of(adapters::Reply reply) const;
  const std::string& route() const { return queue_.route(); }
  std::size_t spooled() const { return spool_ ? spool_->pending() : 0; }

  long long published() const { return published_.load(); }
  long long dropped() const { return dropped_.load(); }

 private:
  void add(campaigns::OutboxEvent e);
  boost::asio::awaitable<void> run();
  boost::asio::awaitable<bool> flush();
  boost::asio::awaitable<bool> make_durable(std::string entry, std::vector<long long> final_ids,
                                            std::size_t events);
  boost::asio::awaitable<void> drain_spool();

  boost::asio::io_context& io_;
  boost::asio::strand<boost::asio::io_context::executor_type> strand_;
  std::shared_ptr<RedisClient> redis_;
  RouteQueue queue_;
  std::shared_ptr<EventSpool> spool_;
  const std::size_t capacity_;
  const std::chrono::milliseconds flush_every_;
  std::mutex mutex_;
  std::vector<campaigns::OutboxEvent> buffer_;  // guarded by mutex_
  bool running_ = false;                        // guarded by mutex_
  std::condition_variable finished_;
  std::atomic<bool> stopping_{false};
  std::atomic<long long> published_{0};
  std::atomic<long long> dropped_{0};
};

}  // namespace loa::engine
