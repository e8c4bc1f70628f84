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

constexpr std::size_t kEventsPerEntry = 2000;  // one stream entry stays well under 1 MB

long long to_ms(std::chrono::system_clock::time_point t) {
  if (t.time_since_epoch().count() == 0) t = std::chrono::system_clock::now();
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

}  // namespace

ReceiptRelay::ReceiptRelay(boost::asio::io_context& io, std::shared_ptr<RedisClient> redis,
                           std::string route, std::size_t capacity,
                           std::chrono::milliseconds flush_every)
    : io_(io),
      queue_(std::move(redis), std::move(route)),
      capacity_(capacity),
      flush_every_(flush_every) {}

ReceiptRelay::~ReceiptRelay() { stop(); }

void ReceiptRelay::start() {
  stopping_ = false;
  {
    std::lock_guard lock(mutex_);
    running_ = true;
  }
  boost::asio::co_spawn(boost::asio::make_strand(io_), run(), [this](std::exception_ptr) {
    std::lock_guard lock(mutex_);
    running_ = false;
    finished_.notify_all();
  });
}

void ReceiptRelay::stop() {
  stopping_ = true;
  std::unique_lock lock(mutex_);
  finished_.wait_for(lock, std::chrono::seconds(10), [this] { return !running_; });
  if (!buffer_.empty())
    spdlog::warn("route {}: {} receipts and replies not published at shutdown", queue_.route(),
                 buffer_.size());
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
  campaigns::OutboxEvent e;
  e.kind = receipt.delivered ? campaigns::OutboxEvent::Kind::kDelivered
                             : campaigns::OutboxEvent::Kind::kUndelivered;
  const auto& id = receipt.message_id;
  std::from_chars(id.data(), id.data() + id.size(), e.message_id);
  e.provider_id = std::move(receipt.provider_id);
  e.reason = std::move(receipt.reason);
  e.at_ms = to_ms(receipt.at);
  add(std::move(e));
}

void ReceiptRelay::on_reply(adapters::Reply reply) {
  campaigns::OutboxEvent e;
  e.kind = campaigns::OutboxEvent::Kind::kReply;
  e.route = queue_.route();
  e.phone = std::move(reply.from_phone);
  e.zalo_user = std::move(reply.from_zalo_user);
  e.text = std::move(reply.text);
  e.provider_id = std::move(reply.provider_id);
  e.at_ms = to_ms(reply.at);
  add(std::move(e));
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
  // Final receipts (delivered, or given up by the gateway) cancel any retry still waiting.
  std::vector<long long> final_ids;
  for (const auto& e : batch)
    if (e.kind == campaigns::OutboxEvent::Kind::kDelivered ||
        e.kind == campaigns::OutboxEvent::Kind::kUndelivered)
      final_ids.push_back(e.message_id);
  auto ec = co_await queue_.publish_receipts(campaigns::encode_events(batch), std::move(final_ids));
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
    while (co_await flush()) {
    }
  }
  while (co_await flush()) {
  }
}

}  // namespace loa::engine
