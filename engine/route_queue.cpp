#include "engine/route_queue.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <charconv>
#include <map>

#include "engine/embedded.hpp"
#include "engine/rate_limiter.hpp"

namespace loa::engine {
namespace {

using boost::system::error_code;
constexpr auto kAwait = boost::asio::as_tuple(boost::asio::use_awaitable);
constexpr std::size_t kEnqueueChunk = 500;  // messages per script call: Redis stays responsive

const RedisScript& script(const char* name) {
  static const RedisScript pop("route_pop", std::string(embedded_file("lua/route_pop.lua")));
  static const RedisScript settle("route_complete",
                                  std::string(embedded_file("lua/route_complete.lua")));
  static const RedisScript enqueue("route_enqueue",
                                   std::string(embedded_file("lua/route_enqueue.lua")));
  static const RedisScript lane("route_lane", std::string(embedded_file("lua/route_lane.lua")));
  static const RedisScript receipts("route_receipts",
                                    std::string(embedded_file("lua/route_receipts.lua")));
  const std::string_view n = name;
  if (n == "receipts") return receipts;
  if (n == "pop") return pop;
  if (n == "settle") return settle;
  if (n == "enqueue") return enqueue;
  return lane;
}

error_code reply_error(error_code ec, const RedisReply& r) {
  if (!ec && r.is_error()) return make_error_code(RedisErrc::kErrorReply);
  return ec;
}

std::vector<std::string> strings_of(const RedisReply& r) {
  std::vector<std::string> out;
  for (const auto& e : r.elements) out.push_back(e.str);
  return out;
}

template <class T>
bool parse_number(std::string_view s, T& out) {
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size();
}

}  // namespace

std::string QueuedMessage::encode() const {
  std::string out;
  out.reserve(body.size() + 96);
  auto field = [&out](std::string_view v) {
    out += v;
    out += '\t';
  };
  field(std::to_string(units));
  field(reply ? "r" : priority ? "p" : "b");
  field(std::to_string(campaign_id));
  field(std::to_string(household_id));
  field(std::to_string(attempts));
  field(channel);
  field(phone);
  field(zalo_user);
  field(std::to_string(expires_at));
  field(quiet_hours);
  field(std::to_string(frequency_cap));
  field(std::to_string(frequency_window_days));
  out += body;
  return out;
}

std::optional<QueuedMessage> QueuedMessage::decode(long long id, std::string_view payload) {
  std::string_view f[12];
  std::size_t pos = 0;
  for (auto& v : f) {
    const auto tab = payload.find('\t', pos);
    if (tab == std::string_view::npos) return std::nullopt;
    v = payload.substr(pos, tab - pos);
    pos = tab + 1;
  }
  QueuedMessage m;
  m.id = id;
  if (!parse_number(f[0], m.units) || (f[1] != "p" && f[1] != "b" && f[1] != "r") ||
      !parse_number(f[2], m.campaign_id) || !parse_number(f[3], m.household_id) ||
      !parse_number(f[4], m.attempts) || !parse_number(f[8], m.expires_at) ||
      !parse_number(f[10], m.frequency_cap) || !parse_number(f[11], m.frequency_window_days))
    return std::nullopt;
  m.priority = f[1] == "p" || f[1] == "r";
  m.reply = f[1] == "r";
  m.channel = f[5];
  m.phone = f[6];
  m.zalo_user = f[7];
  m.quiet_hours = f[9];
  m.body = payload.substr(pos);
  return m;
}

RouteQueue::RouteQueue(std::shared_ptr<RedisClient> redis, std::string route)
    : redis_(std::move(redis)), route_(std::move(route)) {}

std::string RouteQueue::key(std::string_view suffix) const {
  std::string k = "loa:{";
  k += route_;
  k += "}:";
  k += suffix;
  return k;
}

boost::asio::awaitable<std::pair<error_code, EnqueueCount>> RouteQueue::enqueue(
    std::vector<QueuedMessage> messages) {
  // Group by lane, keeping the outbox order within each.
  std::map<long long, std::vector<const QueuedMessage*>> lanes;  // -1: priority
  for (const auto& m : messages) lanes[m.priority ? -1 : m.campaign_id].push_back(&m);
  std::vector<RedisCommand> commands;
  for (const auto& [campaign, group] : lanes) {
    const std::string lane = campaign < 0 ? key("pri") : key("lane:" + std::to_string(campaign));
    for (std::size_t i = 0; i < group.size(); i += kEnqueueChunk) {
      std::vector<std::string> args{campaign < 0 ? "" : std::to_string(campaign)};
      for (std::size_t j = i; j < std::min(group.size(), i + kEnqueueChunk); ++j) {
        args.push_back(std::to_string(group[j]->id));
        args.push_back(group[j]->encode());
      }
      commands.push_back(redis_->eval_command(
          script("enqueue"),
          {key("msg"), key("sent"), lane, key("lanes"), key("paused"), key("asleep"),
           key("done")},
          std::move(args)));
    }
  }
  EnqueueCount count;
  if (commands.empty()) co_return std::pair{error_code{}, count};
  auto [ec, replies] = co_await redis_->async_exec_pipeline(std::move(commands), kAwait);
  if (ec) co_return std::pair{ec, count};
  for (const auto& r : replies) {
    if (r.is_error() || r.elements.size() != 2)
      co_return std::pair{make_error_code(RedisErrc::kErrorReply), count};
    count.added += r.elements[0].integer;
    count.skipped += r.elements[1].integer;
  }
  co_return std::pair{error_code{}, count};
}

boost::asio::awaitable<std::pair<error_code, PopResult>> RouteQueue::pop(
    int max, std::chrono::milliseconds lease, long long now_unix, long long results_backlog,
    const std::vector<std::string>& lanes) {
  std::vector<std::string> keys{key("pri"),   key("lanes"),   key("asleep"),
                                key("msg"),   key("lease"),   key("delayed"),
                                key("sent"),  RateLimiter::key(route_), key("results"),
                                key("cancelled"), key("paused")};
  std::vector<std::string> args{std::to_string(max), std::to_string(lease.count()),
                                std::to_string(now_unix), std::to_string(results_backlog)};
  for (const auto& cid : lanes) {
    keys.push_back(key("lane:" + cid));
    args.push_back(cid);
  }
  auto [ec, r] = co_await redis_->async_eval(script("pop"), std::move(keys), std::move(args),
                                             kAwait);
  PopResult out;
  ec = reply_error(ec, r);
  if (ec) co_return std::pair{ec, out};
  if (r.elements.size() != 5) co_return std::pair{make_error_code(RedisErrc::kErrorReply), out};
  const std::string& code = r.elements[0].str;
  out.code = code == "ok"             ? PopResult::Code::kOk
             : code == "limited"      ? PopResult::Code::kLimited
             : code == "norate"       ? PopResult::Code::kNoRate
             : code == "backpressure" ? PopResult::Code::kBackpressure
                                      : PopResult::Code::kEmpty;
  out.wait = std::chrono::microseconds(r.elements[1].integer);
  const auto& items = r.elements[2].elements;
  out.items.reserve(items.size() / 2);
  for (std::size_t i = 0; i + 1 < items.size(); i += 2)
    out.items.emplace_back(items[i].str, items[i + 1].str);
  out.lanes = strings_of(r.elements[3]);
  out.paused = strings_of(r.elements[4]);
  co_return std::pair{error_code{}, out};
}

boost::asio::awaitable<error_code> RouteQueue::settle(std::string events,
                                                      const std::vector<SettleOp>& ops,
                                                      std::chrono::seconds mark_retention) {
  std::vector<std::string> keys{key("msg"),     key("lease"), key("delayed"), key("sent"),
                                key("results"), key("lanes"), key("asleep"),  key("pri"),
                                key("done")};
  std::map<long long, std::size_t> lane_index;  // campaign -> KEYS index (1-based)
  std::vector<std::string> args{std::move(events), std::to_string(mark_retention.count())};
  args.reserve(2 + ops.size() * 4);
  for (const auto& op : ops) {
    switch (op.kind) {
      case SettleOp::Kind::kSent:
      case SettleOp::Kind::kFinal:
        args.insert(args.end(), {op.kind == SettleOp::Kind::kSent ? "sent" : "final", op.id,
                                 "", ""});
        break;
      case SettleOp::Kind::kRetry:
        args.insert(args.end(), {"retry", op.id, std::to_string(op.delay.count()), op.payload});
        break;
      case SettleOp::Kind::kPark: {
        std::size_t index = 8;  // the priority lane
        if (op.campaign_id > 0) {
          auto [it, fresh] = lane_index.emplace(op.campaign_id, keys.size() + 1);
          if (fresh) keys.push_back(key("lane:" + std::to_string(op.campaign_id)));
          index = it->second;
        }
        args.insert(args.end(),
                    {"park", op.id, std::to_string(index), std::to_string(op.wake_at)});
        break;
      }
    }
  }
  auto [ec, r] = co_await redis_->async_eval(script("settle"), std::move(keys), std::move(args),
                                             kAwait);
  co_return reply_error(ec, r);
}

boost::asio::awaitable<error_code> RouteQueue::forget_done(std::vector<long long> ids) {
  constexpr std::size_t kChunk = 1000;
  std::vector<RedisCommand> commands;
  for (std::size_t i = 0; i < ids.size(); i += kChunk) {
    RedisCommand zrem{"ZREM", key("done")};
    for (std::size_t j = i; j < std::min(ids.size(), i + kChunk); ++j)
      zrem.push_back(std::to_string(ids[j]));
    commands.push_back(std::move(zrem));
  }
  if (commands.empty()) co_return error_code{};
  auto [ec, replies] = co_await redis_->async_exec_pipeline(std::move(commands), kAwait);
  if (ec) co_return ec;
  for (const auto& r : replies)
    if (r.is_error()) co_return make_error_code(RedisErrc::kErrorReply);
  co_return error_code{};
}

boost::asio::awaitable<error_code> RouteQueue::publish(std::string events) {
  // (Commands are built before co_await: GCC 12 miscompiles braced lists inside one.)
  RedisCommand xadd{"XADD", key("results"), "*", "e", std::move(events)};
  auto [ec, r] = co_await redis_->async_exec(std::move(xadd), kAwait);
  co_return reply_error(ec, r);
}

boost::asio::awaitable<error_code> RouteQueue::publish_receipts(std::string events,
                                                                std::vector<long long> final_ids) {
  std::vector<std::string> keys{key("sent"), key("results")};
  std::vector<std::string> args{std::move(events)};
  args.reserve(1 + final_ids.size());
  for (long long id : final_ids)
    if (id > 0) args.push_back(std::to_string(id));
  auto [ec, r] =
      co_await redis_->async_eval(script("receipts"), std::move(keys), std::move(args), kAwait);
  co_return reply_error(ec, r);
}

boost::asio::awaitable<error_code> RouteQueue::control(LaneOp op, long long campaign_id) {
  const std::string cid = std::to_string(campaign_id);
  const char* name = op == LaneOp::kPause ? "pause" : op == LaneOp::kResume ? "resume" : "cancel";
  const std::vector<std::string> keys{key("lanes"),     key("asleep"),        key("paused"),
                                      key("cancelled"), key("lane:" + cid), key("msg")};
  const std::vector<std::string> args{name, cid};
  for (;;) {
    auto [ec, r] = co_await redis_->async_eval(script("lane"), keys, args, kAwait);
    ec = reply_error(ec, r);
    if (ec || op != LaneOp::kCancel || r.integer == 0) co_return ec;
  }
}

boost::asio::awaitable<error_code> RouteQueue::set_rate(int units_per_second, int burst) {
  RedisCommand hset{"HSET", RateLimiter::key(route_), "rate", std::to_string(units_per_second),
                    "burst", std::to_string(burst)};
  auto [ec, r] = co_await redis_->async_exec(std::move(hset), kAwait);
  co_return reply_error(ec, r);
}

boost::asio::awaitable<std::pair<error_code, QueueDepth>> RouteQueue::depth() {
  std::vector<RedisCommand> commands{{"HLEN", key("msg")},      {"LLEN", key("pri")},
                                     {"ZCARD", key("delayed")}, {"ZCARD", key("lease")},
                                     {"ZCARD", key("lanes")},   {"XLEN", key("results")}};
  auto [ec, replies] = co_await redis_->async_exec_pipeline(std::move(commands), kAwait);
  QueueDepth d;
  if (ec) co_return std::pair{ec, d};
  if (replies.size() != 6) co_return std::pair{make_error_code(RedisErrc::kErrorReply), d};
  for (const auto& r : replies)
    if (r.is_error()) co_return std::pair{make_error_code(RedisErrc::kErrorReply), d};
  d.waiting = replies[0].integer;
  d.priority = replies[1].integer;
  d.delayed = replies[2].integer;
  d.leased = replies[3].integer;
  d.lanes = replies[4].integer;
  d.results = replies[5].integer;
  co_return std::pair{error_code{}, d};
}

}  // namespace loa::engine
