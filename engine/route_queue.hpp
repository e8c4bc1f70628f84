// One route's queues in Redis (DESIGN.md 1, 3.2-3.5): a priority lane, one bulk lane per
// campaign served fairly, a delayed set for retries, a lease set for messages in flight,
// dedupe marks, the route's rate limit and its results stream. The Lua scripts beside it
// (engine/lua/route_*.lua) do every step atomically; this class names the keys, encodes the
// payloads and runs the scripts.
//
// Keys (all share the hash tag {route}, so a route lives in one Redis Cluster slot, and every
// key a script touches is passed in KEYS):
//   loa:{r}:pri  loa:{r}:lane:<campaign>  loa:{r}:lanes  loa:{r}:asleep  loa:{r}:paused
//   loa:{r}:cancelled  loa:{r}:msg  loa:{r}:delayed  loa:{r}:lease  loa:{r}:sent  loa:{r}:done
//   loa:{r}:limit (engine/rate_limiter.hpp)  loa:{r}:results  loa:{r}:epoch
//
// Contract:
//  - enqueue() is idempotent (a message waiting, in flight, already sent, or already settled
//    on this route in any other way is skipped), so the outbox may be replayed into Redis at
//    any time, even before the outcomes of what it replays have reached the outbox (a planner
//    killed before its `queued` marks committed replays pages whose messages may have been
//    sent, or refused as unreachable and moved to their fallback, since: DESIGN.md 3.2, 3.7).
//    Settled messages keep a mark (loa:{r}:sent when the gateway took them, loa:{r}:done
//    otherwise) for `mark_retention`.
//  - pop() leases what it returns and charges the rate limit for it, in Redis's own clock;
//    an unsettled lease returns the message to the route after `lease`.
//  - settle() releases a batch and publishes its outcomes to the results stream in one step.
//  - publish_receipts() marks messages with a final receipt sent: a retry still waiting in
//    the delayed set is then dropped at its pop, never sent (one in flight is not recalled).
//  - Every call completes with an error_code; Redis errors never throw.
//
// Thread-safety: safe from any thread; calls run on the RedisClient's connection.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/system/error_code.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/redis_client.hpp"

namespace loa::engine {

// A message as it waits in Redis: everything a dispatcher needs, so that dispatchers need
// no store (DESIGN.md 5).
struct QueuedMessage {
  long long id = 0;  // outbox id
  int units = 1;     // rate-limit cost: SMS segments, or 1
  bool priority = false;
  // An answer to a household that wrote (campaigns/inbox.hpp): priority lane, and not held
  // back by the household's opt-out (it answers what the household wrote).
  bool reply = false;
  long long campaign_id = 0;
  long long household_id = 0;
  int attempts = 0;
  std::string channel;
  std::string phone;
  std::string zalo_user;
  long long expires_at = 0;    // unix s; at or after it the message expires
  std::string quiet_hours;     // "21:00-07:00", or empty for none
  int frequency_cap = 0;       // messages per household per window; 0 for no cap
  int frequency_window_days = 0;
  std::string body;

  // "units\tp|b|r\tcampaign\thousehold\tattempts\tchannel\tphone\tzalo\texpires\tquiet\tcap\tdays\tbody"
  // The scripts read the first three fields; the body is last and may hold anything.
  std::string encode() const;
  static std::optional<QueuedMessage> decode(long long id, std::string_view payload);
};

struct EnqueueCount {
  long long added = 0;
  long long skipped = 0;
};

struct PopResult {
  enum class Code { kOk, kEmpty, kLimited, kNoRate, kBackpressure };
  Code code = Code::kEmpty;
  std::chrono::microseconds wait{0};  // before the next pop (rate, next due retry, backlog)
  std::vector<std::pair<std::string, std::string>> items;  // id, payload
  std::vector<std::string> lanes;   // serveable bulk lanes (campaign ids), when refreshed
  std::vector<std::string> paused;  // paused campaigns: their messages go back to their lane
};

// What to do with one popped message when its batch is settled.
struct SettleOp {
  enum class Kind { kSent, kFinal, kRetry, kPark };
  Kind kind = Kind::kFinal;
  std::string id;
  std::chrono::microseconds delay{0};  // kRetry
  std::string payload;                 // kRetry: with the attempt counted
  long long campaign_id = 0;           // kPark: its lane; 0 parks in the priority lane
  long long wake_at = 0;               // kPark: unix s until which the lane sleeps, or 0
};

struct QueueDepth {
  long long waiting = 0;  // payloads held: in lanes, delayed or leased
  long long priority = 0;
  long long delayed = 0;
  long long leased = 0;
  long long lanes = 0;
  long long results = 0;  // results stream entries not yet consumed
};

class RouteQueue {
 public:
  RouteQueue(std::shared_ptr<RedisClient> redis, std::string route);

  const std::string& route() const { return route_; }
  std::string key(std::string_view suffix) const;  // "loa:{route}:<suffix>"

  // Messages of one batch may mix lanes; they are grouped, and sent in chunks, pipelined.
  boost::asio::awaitable<std::pair<boost::system::error_code, EnqueueCount>> enqueue(
      std::vector<QueuedMessage> messages);  // by value: it outlives the caller's wait

  // `lanes`: the bulk lanes the caller knows (from the last PopResult::lanes).
  boost::asio::awaitable<std::pair<boost::system::error_code, PopResult>> pop(
      int max, std::chrono::milliseconds lease, long long now_unix,
      long long results_backlog, const std::vector<std::string>& lanes);

  // `events`: the outcomes for the results stream (campaigns/outbox_event.hpp encoding).
  boost::asio::awaitable<boost::system::error_code> settle(std::string events,
                                                           const std::vector<SettleOp>& ops,
                                                           std::chrono::seconds mark_retention);

  // Forgets the done marks of messages an operator sends again (the outbox already records
  // them as failed, so no replay can need the marks): they may be enqueued again.
  boost::asio::awaitable<boost::system::error_code> forget_done(std::vector<long long> ids);

  // Publishes outcomes that settle nothing (delivery receipts, replies).
  boost::asio::awaitable<boost::system::error_code> publish(std::string events);
  // Publishes receipts and, in the same step, gives the messages of `final_ids` (final
  // receipts: delivered, or given up) a dedupe mark, so that a retry of one still waiting is
  // dropped by its pop instead of sent again (engine/lua/route_receipts.lua).
  boost::asio::awaitable<boost::system::error_code> publish_receipts(
      std::string events, std::vector<long long> final_ids);

  enum class LaneOp { kPause, kResume, kCancel };
  // A cancel repeats until the lane is empty.
  boost::asio::awaitable<boost::system::error_code> control(LaneOp op, long long campaign_id);

  // Sets the route's limit (units per second, 0 for none) as a value in Redis.
  boost::asio::awaitable<boost::system::error_code> set_rate(int units_per_second, int burst);

  boost::asio::awaitable<std::pair<boost::system::error_code, QueueDepth>> depth();

 private:
  std::shared_ptr<RedisClient> redis_;
  std::string route_;
};

}  // namespace loa::engine
