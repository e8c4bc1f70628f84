// The store side of the results streams: reads what the dispatchers report
// (`loa:{ROUTE}:results`, one entry = one batch of events in the field `e`, encoded by
// campaigns/outbox_event.hpp) and applies it to the outbox through the store writer, so the
// outbox stays the record (DESIGN.md 3.1).
//
// Contract:
//  - One consumer group, `store`, per stream, created at id 0 (MKSTREAM), so nothing a
//    dispatcher published before the first start is missed. Several consumers (by name) may
//    share the group; each entry goes to one of them.
//  - start() first re-reads this consumer's pending entries (read before a crash or a lost
//    reply, never acknowledged), then blocks on new ones (XREADGROUP ... BLOCK).
//  - The entries of one read go to the store writer as ONE write. Only after it commits are
//    they acknowledged and deleted (XACK + XDEL, which also keeps the streams bounded). A
//    crash between commit and XACK means redelivery, which is harmless: applying events twice
//    changes nothing more (campaigns/outbox_event.hpp). For that, each status event gets the
//    route of the stream that carried it (OutboxEvent::route), and an "unreachable" `failed`
//    applies only to a row still on that route: a second one from Zalo cannot move (or
//    fail) a row that has fallen back to SMS since.
//  - Receipts for message ids the outbox does not know are stored in orphan_receipts, counted
//    (Counters::orphans) and logged, never applied.
//  - An entry that does not decode is logged (stream and entry id), counted in decode_errors
//    and acknowledged, so it cannot wedge the consumer.
//  - Bounded: at most kMaxEntriesInFlight entries are submitted and not yet committed; the
//    next read waits. The writer is fed with try_submit, never blocking an io thread.
//  - Redis errors never end it: transport errors and error replies retry with a backoff
//    (kRetryMin..kRetryMax), and NOGROUP (the stream was deleted, e.g. FLUSHALL) recreates
//    the groups. After any error it re-reads its pending entries, since a lost reply may
//    have delivered entries it never saw. A write that fails leaves its entries pending;
//    they are retried after the backoff.
//  - It has its OWN RedisClient: XREADGROUP BLOCK holds a connection, and must not stall the
//    shared one. Its command timeout is raised to exceed the block time.
//  - One XREADGROUP names every route's stream. On Redis Cluster those keys live in
//    different slots, so that deployment needs one consumer per route.
//  - stop() stops reading, waits (at most kStopGrace) for writes in flight and their XACKs,
//    and closes the client. The destructor stops. A stopped consumer does not start again
//    (make a new one).
//
// Thread-safety: start() and stop() from one thread, which must not be one running the
// io_context (stop() waits for work done there). counters() is safe from any thread.
#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "campaigns/reply_handler.hpp"
#include "engine/redis_client.hpp"
#include "engine/store_writer.hpp"

namespace loa::engine {

class ResultConsumer {
 public:
  static constexpr const char* kGroup = "store";
  static constexpr int kReadCount = 64;                     // entries per stream per read
  static constexpr std::chrono::milliseconds kBlock{500};   // XREADGROUP BLOCK
  static constexpr std::size_t kMaxEntriesInFlight = 1024;  // submitted, not yet committed
  static constexpr std::chrono::milliseconds kRetryMin{50};
  static constexpr std::chrono::milliseconds kRetryMax{2000};
  static constexpr std::chrono::milliseconds kStopGrace{5000};

  struct Counters {
    std::uint64_t entries = 0;         // stream entries read and settled (incl. bad ones)
    std::uint64_t events = 0;          // events decoded from them and committed
    std::uint64_t applied = 0;         // rows changed (outbox updates, replies stored)
    std::uint64_t ignored = 0;         // events that changed nothing (unknown id, precedence)
    std::uint64_t decode_errors = 0;   // entries that did not decode (acknowledged anyway)
    std::uint64_t write_failures = 0;  // writes the store refused (entries left pending)
    std::uint64_t redis_errors = 0;    // failed commands and error replies (retried)
    std::uint64_t in_flight = 0;       // entries submitted to the writer, not yet committed
    std::uint64_t orphans = 0;         // receipts for unknown message ids, stored (not replays)
    std::uint64_t replies_handled = 0; // replies the reply rules processed
  };

  // Runs the reply rules (campaigns/reply_handler.hpp) in the same write that stored the
  // replies. Once that commits, what the rules changed reaches Redis at once: opted-out
  // households join loa:{optout}:sms and :zalo (opted-in ones leave them), and the bulk
  // messages an opt-out cancelled leave their lanes (HDEL of the payload, LREM from the lane,
  // ZREM from the delayed set), so they are not sent even if the enqueuer's mirror lags.
  // Set it before start().
  using ReplyHandler = std::function<campaigns::ReplyEffects(SQLite::Database&)>;
  void set_reply_handler(ReplyHandler handler);

  // `routes` are route names ("sms", "zalo_zns"); the streams are loa:{route}:results.
  ResultConsumer(boost::asio::io_context& io, RedisClientOptions options,
                 std::vector<std::string> routes, StoreWriter& writer,
                 std::string consumer_name = "store");
  ~ResultConsumer();
  ResultConsumer(const ResultConsumer&) = delete;
  ResultConsumer& operator=(const ResultConsumer&) = delete;

  void start();
  void stop();
  Counters counters() const;

  static std::string stream_key(const std::string& route) { return "loa:{" + route + "}:results"; }

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace loa::engine
