// Carries what a gateway pushes (delivery receipts, household replies) to its route's results
// stream, where the store writer picks it up (engine/result_consumer.hpp) like any outcome.
// It is the adapters::GatewayEvents sink that a dispatching process gives its gateways.
//
// Contract:
//  - on_receipt/on_reply never block: events are buffered and published every `flush_every`
//    in one XADD per batch.
//  - The buffer holds at most `capacity` events; beyond that new events are counted as
//    dropped and logged (a receipt lost leaves its message at `sent`, never loses it).
//  - A failed publish keeps the batch and tries again at the next flush.
//  - A final receipt (delivered, or given up) marks its message sent on the route in the same
//    step as it is published (RouteQueue::publish_receipts), so a retry of the message still
//    waiting is dropped, not sent again.
//  - stop() publishes what is buffered (one last attempt) and returns.
//
// Thread-safety: on_receipt/on_reply from any thread; start/stop from one thread.
#pragma once

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <vector>

#include "adapters/gateway.hpp"
#include "campaigns/outbox_event.hpp"
#include "engine/route_queue.hpp"

namespace loa::engine {

class ReceiptRelay : public adapters::GatewayEvents {
 public:
  ReceiptRelay(boost::asio::io_context& io, std::shared_ptr<RedisClient> redis, std::string route,
               std::size_t capacity = 200000,
               std::chrono::milliseconds flush_every = std::chrono::milliseconds(100));
  ~ReceiptRelay() override;

  void start();
  void stop();

  void on_receipt(adapters::DeliveryReceipt receipt) override;
  void on_reply(adapters::Reply reply) override;

  long long published() const { return published_.load(); }
  long long dropped() const { return dropped_.load(); }

 private:
  void add(campaigns::OutboxEvent e);
  boost::asio::awaitable<void> run();
  boost::asio::awaitable<bool> flush();

  boost::asio::io_context& io_;
  RouteQueue queue_;
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
