#include "engine/receipt_relay.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <charconv>

namespace loa::engine {
namespace {

// Final receipts (delivered, or given up by the gateway) cancel any retry still waiting
// (RouteQueue::publish_receipts).
std::vector<long long> final_ids_of(const std::vector<campaigns::OutboxEvent>& events) {
  std::vector<long long> ids;
  for (const auto& e : events)
    if (e.kind == campaigns::OutboxEvent::Kind::kDelivered ||
        e.kind == campaigns::OutboxEvent::Kind::kUndelivered)
      ids.push_back(e.message_id);
  return ids;
}

constexpr std::size_t kEventsPerEntry = 2000;  // one stream entry stays well under 1 MB

long long to_ms(std::chrono::system_clock::time_point t) {
  if (t.time_since_epoch().count() == 0) t = std::chrono::system_clock::now();
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

}  // namespace

ReceiptRelay::ReceiptRelay(boost::asio::io_context& io, std::shared_ptr<RedisClient> redis,
                           std::string route, std::shared_ptr<EventSpool> spool,
                           std::size_t capacity, std::chrono::milliseconds flush_every)
    : io_(io),
      strand_(boost::asio::make_strand(io)),
      redis_(redis),
      queue_(std::move(redis), std::move(route)),
      spool_(std::move(spool)),
      capacity_(capacity),
      flush_every_(flush_every) {}

ReceiptRelay::~ReceiptRelay() { stop(); }

void ReceiptRelay::start() {
  stopping_ = false;
  {
    std::lock_guard lock(mutex_);
    running_ = true;
  }
  if (spool_ && spool_->pending() > 0)
    spdlog::info("route {}: {} spooled receipt/reply batch(es) to deliver to Redis",
                 queue_.route(), spool_->pending());
  boost::asio::co_spawn(strand_, run(), [this](std::exception_ptr) {
    std::lock_guard lock(mutex_);
    running_ = false;
    finished_.notify_all();
  });
}

void ReceiptRelay::stop() {
  stopping_ = true;
  std::unique_lock lock(mutex_);
  finished_.wait_for(lock, std::chrono::seconds(10), [this] { return !running_; });
  if (buffer_.empty()) return;
  if (spool_) {
    // Redis did not take them: they wait in the spool for the next start.
    std::size_t kept = 0;
    for (std::size_t i = 0; i < buffer_.size(); i += kEventsPerEntry) {
      const auto end = buffer_.begin() +
                       static_cast<std::ptrdiff_t>(std::min(buffer_.size(), i + kEventsPerEntry));
      std::vector<campaigns::OutboxEvent> part(buffer_.begin() + static_cast<std::ptrdiff_t>(i),
                                               end);
      if (spool_->append(campaigns::encode_events(part))) kept += part.size();
    }
    spdlog::info("route {}: {} receipts and replies spooled at shutdown", queue_.route(), kept);
    if (kept < buffer_.size())
      spdlog::warn("route {}: {} receipts and replies not published at shutdown (spool full)",
                   queue_.route(), buffer_.size() - kept);
  } else {
    spdlog::warn("route {}: {} receipts and replies not published at shutdown", queue_.route(),
                 buffer_.size());
  }
  buffer_.clear();
}

void ReceiptRelay::add(campaigns::OutboxEvent e) {
  std::lock_guard lock(mutex_);
  if (buffer_.size() >= capacity_) {
    if (dropped_++ % 1000 == 0)
      spdlog::error("route {}: receipt buffer full ({} events): dropping; is Redis down?",
                    queue_.route(), capacity_);
    return;
  }
  buffer_.push_back(std::move(e));
}

void ReceiptRelay::on_receipt(adapters::DeliveryReceipt receipt) {
  add(event_of(std::move(receipt)));
}

void ReceiptRelay::on_reply(adapters::Reply reply) { add(event_of(std::move(reply))); }

campaigns::OutboxEvent ReceiptRelay::event_of(adapters::DeliveryReceipt receipt) const {
  campaigns::OutboxEvent e;
  e.kind = receipt.delivered ? campaigns::OutboxEvent::Kind::kDelivered
                             : campaigns::OutboxEvent::Kind::kUndelivered;
  const auto& id = receipt.message_id;
  std::from_chars(id.data(), id.data() + id.size(), e.message_id);
  e.provider_id = std::move(receipt.provider_id);
  e.reason = std::move(receipt.reason);
  e.at_ms = to_ms(receipt.at);
  return e;
}

campaigns::OutboxEvent ReceiptRelay::event_of(adapters::Reply reply) const {
  campaigns::OutboxEvent e;
  e.kind = campaigns::OutboxEvent::Kind::kReply;
  e.route = queue_.route();
  e.phone = std::move(reply.from_phone);
  e.zalo_user = std::move(reply.from_zalo_user);
  e.text = std::move(reply.text);
  e.provider_id = std::move(reply.provider_id);
  e.at_ms = to_ms(reply.at);
  return e;
}

void ReceiptRelay::accept(std::vector<campaigns::OutboxEvent> events,
                          std::function<void(bool)> done) {
  boost::asio::co_spawn(
      strand_,
      [this, n = events.size(), final_ids = final_ids_of(events),
       entry = campaigns::encode_events(events)]() mutable {
        return make_durable(std::move(entry), std::move(final_ids), n);
      },
      [done = std::move(done)](std::exception_ptr e, bool durable) { done(!e && durable); });
}

boost::asio::awaitable<bool> ReceiptRelay::make_durable(std::string entry,
                                                         std::vector<long long> final_ids,
                                                         std::size_t events) {
  // Behind older spooled events, a new one waits its turn: a household's "TU CHOI" and its
  // "DONG Y" must reach the store in the order they were acknowledged.
  if ((!spool_ || spool_->pending() == 0) && redis_->connected()) {
    auto ec = co_await queue_.publish_receipts(entry, std::move(final_ids));
    if (!ec) {
      published_ += static_cast<long long>(events);
      co_return true;
    }
    // kConnectionLost or kTimeout: the XADD may have run. Spooling it as well risks a
    // duplicate, which the store drops; not spooling it risks a lost opt-out.
  }
  if (!spool_) co_return false;
  if (spool_->append(entry)) co_return true;
  if (dropped_++ % 1000 == 0)
    spdlog::error("route {}: the spool {} is full or failing ({} bytes) and Redis is down: "
                  "answering webhooks 503 so that gateways retry",
                  queue_.route(), spool_->file().string(), spool_->bytes());
  co_return false;
}

boost::asio::awaitable<void> ReceiptRelay::drain_spool() {
  if (!spool_) co_return;
  std::size_t delivered = 0;
  while (redis_->connected()) {
    auto entry = spool_->front();
    if (!entry) break;
    // The spool keeps the encoded batch; its final receipts cancel retries here as well.
    auto final_ids = final_ids_of(campaigns::decode_events(*entry));
    auto ec = co_await queue_.publish_receipts(std::move(*entry), std::move(final_ids));
    if (ec) break;  // the next flush tries again
    spool_->pop();
    ++delivered;
  }
  if (delivered > 0)
    spdlog::info("route {}: {} spooled receipt/reply batch(es) delivered to Redis; {} left",
                 queue_.route(), delivered, spool_->pending());
}

boost::asio::awaitable<bool> ReceiptRelay::flush() {
  std::vector<campaigns::OutboxEvent> batch;
  {
    std::lock_guard lock(mutex_);
    const std::size_t n = std::min(buffer_.size(), kEventsPerEntry);
    batch.assign(std::make_move_iterator(buffer_.begin()),
                 std::make_move_iterator(buffer_.begin() + static_cast<std::ptrdiff_t>(n)));
    buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(n));
  }
  if (batch.empty()) co_return false;
  auto ec = co_await queue_.publish_receipts(campaigns::encode_events(batch), final_ids_of(batch));
  if (!ec) {
    published_ += static_cast<long long>(batch.size());
    co_return true;
  }
  spdlog::warn("route {}: publishing {} receipts/replies failed: {}; will retry", queue_.route(),
               batch.size(), ec.message());
  std::lock_guard lock(mutex_);
  buffer_.insert(buffer_.begin(), std::make_move_iterator(batch.begin()),
                 std::make_move_iterator(batch.end()));
  co_return false;
}

boost::asio::awaitable<void> ReceiptRelay::run() {
  boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor);
  constexpr auto kAwait = boost::asio::as_tuple(boost::asio::use_awaitable);
  while (!stopping_) {
    timer.expires_after(flush_every_);
    co_await timer.async_wait(kAwait);
    co_await drain_spool();
    while (co_await flush()) {
    }
  }
  co_await drain_spool();
  while (co_await flush()) {
  }
}

}  // namespace loa::engine
