// What happened to outbox messages, as the dispatchers report it: the results stream's
// payload (engine/result_consumer.hpp) and how it is applied to the outbox (the record,
// DESIGN.md 3.1). No Redis here: this is the codec and the SQL.
//
// The stream field `e` holds a batch of events, one per line ('\n'), fields separated by a
// tab. Text fields escape `\` as `\\`, a tab as `\t` and a newline as `\n`; nothing else is
// escaped, so UTF-8 (Vietnamese, Ê Đê) travels byte for byte. A trailing '\n' is allowed.
//
//   sent|failed|expired|cancelled|delivered|undelivered  <TAB> message_id <TAB> attempts
//       <TAB> at_ms <TAB> provider_id <TAB> reason                               (6 fields)
//   reply <TAB> message_id <TAB> attempts <TAB> at_ms <TAB> provider_id <TAB> reason
//       <TAB> route <TAB> phone <TAB> zalo_user <TAB> text                       (10 fields)
//
// message_id is the outbox id (0: a reply that answers no known message), at_ms is when it
// happened in Unix epoch milliseconds (0: unknown, the time of applying is used).
//
// Precedence (apply_outbox_events): events of one message may arrive in any order (a
// delivery receipt can beat its `sent`), so each kind moves a row only from the states where
// it can be news:
//   sent         planned|queued              -> sent      provider_id, attempts, sent_at
//                delivered without sent_at      (state kept; provider_id, sent_at filled in)
//   delivered    any state but delivered     -> delivered delivered_at (a real receipt wins,
//                                                         over `unknown` too)
//   undelivered  planned|queued|sent|unknown -> failed    last_error (planned: the receipt
//                                                         beat its `sent`, as for delivered)
//   (unknown     sent, no receipt within the route's timeout: campaigns/receipt_timeout.hpp)
// Delivery times are monotonic: delivered_at is never before sent_at. sent_at is loa's clock
// when the request left (engine/dispatcher.cpp); a receipt stamped earlier (the gateway's
// clock, or a receipt that raced its send's answer) is recorded at sent_at, in the outbox and
// in delivery_history, so loa's clock wins.
//   failed       planned|queued              -> failed    last_error, attempts; but when the
//                                               reason starts with "unreachable" and the row
//                                               has a fallback channel: -> planned on that
//                                               channel (fallback_from records the one given
//                                               up; the body is rendered again; attempts 0)
//   expired      planned|queued              -> expired   last_error
//   cancelled    planned|queued              -> cancelled last_error
//   reply        a new row in `replies`, matched to the household by the message, the phone
//                (households.phone_e164) or the Zalo user, and to the campaign of that
//                household's latest outbox row; a provider_id seen before is ignored.
// Every status event of a known message is also kept in delivery_history, once per message
// and kind, with its time (so a `failed` receipt after `delivered`, which the outbox refuses,
// is still on record, and time-to-delivery can be reported); a receipt for an id the outbox
// does not know is stored in orphan_receipts once (by id, kind and provider id: a replay
// adds nothing) and counted (orphans()). A reply's phone is
// normalised to E.164 before it is matched and stored; the reply is stored with status `new`
// for the reply rules (campaigns/reply_handler.hpp).
// Every change sets updated_at, and every change is counted in the statistics summary
// (campaigns/stats_summary.hpp) in the same transaction, once per apply() call. Events for unknown
// ids, and events their row's state refuses, change nothing and are not errors. Applying a batch
// twice changes nothing more, so redelivery (at-least-once from the stream) is harmless; the one
// exception is a reply without a provider_id, which cannot be told from a second identical message
// and is kept.
//
// Thread-safety: the codec is pure. OutboxEventApplier and apply_outbox_events use their
// Database from one thread at a time (the store writer's).
#pragma once

#include <SQLiteCpp/Database.h>

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "campaigns/stats_summary.hpp"

namespace SQLite {
class Statement;
}

namespace loa::campaigns {

struct OutboxEvent {
  enum class Kind { kSent, kFailed, kExpired, kCancelled, kDelivered, kUndelivered, kReply };
  Kind kind = Kind::kSent;
  long long message_id = 0;  // outbox.id; 0 for a reply with no message
  int attempts = 0;
  std::string provider_id;
  std::string reason;
  long long at_ms = 0;  // Unix epoch milliseconds when it happened
  // Replies only:
  std::string route, phone, zalo_user, text;

  bool operator==(const OutboxEvent&) const = default;
};

std::string_view to_string(OutboxEvent::Kind kind);
std::optional<OutboxEvent::Kind> parse_outbox_event_kind(std::string_view word);

class OutboxEventError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The stream field `e`.
std::string encode_events(const std::vector<OutboxEvent>& events);
// Throws OutboxEventError naming the line (1-based) and the field on bad input.
std::vector<OutboxEvent> decode_events(std::string_view text);

// Applies batches of events with its statements prepared once. It must be destroyed before
// its Database (SQLite refuses to close a connection with live statements).
class OutboxEventApplier {
 public:
  explicit OutboxEventApplier(SQLite::Database& db);
  ~OutboxEventApplier();
  OutboxEventApplier(const OutboxEventApplier&) = delete;
  OutboxEventApplier& operator=(const OutboxEventApplier&) = delete;

  SQLite::Database& database() const { return db_; }
  // Inside the caller's transaction. Returns the number of rows changed (outbox rows
  // updated plus replies inserted); the other events were ignored.
  int apply(const std::vector<OutboxEvent>& events);
  // Receipts of the last apply() whose message the outbox does not know, newly stored in
  // orphan_receipts (not applied; a replay of one already stored is not counted).
  int orphans() const { return orphans_; }

 private:
  enum Stmt {
    kSent,
    kDelivered,
    kUndelivered,
    kFailed,
    kEnd,
    kReplyInsert,
    kByMessage,
    kByPhone,
    kByZalo,
    kLatest,
    kOrphan,
    kStmtCount
  };
  SQLite::Statement& stmt(Stmt which);
  // Binds ?1, ?2, ... in order and runs the statement; returns the rows changed.
  template <class... Args>
  int run(Stmt which, const Args&... args);
  int apply_reply(const OutboxEvent& e, const std::string& now);
  // Counts the change `e` made to a row that was `before` it.
  void count(const OutboxEvent& e, const OutboxRowFacts& before, long long at_ms);
  // Writes the history rows collected by apply(), many rows per INSERT.
  void flush_history(const std::string& now);

  // A delivery_history row waiting for flush_history(); `event` outlives it (apply()'s batch).
  struct HistoryRow {
    std::int64_t message_id = 0;
    const OutboxEvent* event = nullptr;
    std::string at;
  };

  SQLite::Database& db_;
  int orphans_ = 0;
  OutboxRowReader rows_;
  OutboxRowFacts before_;  // the row of the event being applied
  StatsDeltas deltas_;
  std::array<std::unique_ptr<SQLite::Statement>, kStmtCount> stmts_;  // prepared on first use
  std::vector<HistoryRow> history_;
  // INSERTs of 1, 2, 4, ... kHistoryChunk rows, prepared on first use.
  static constexpr std::size_t kHistoryChunkLog2 = 6;
  std::array<std::unique_ptr<SQLite::Statement>, kHistoryChunkLog2 + 1> history_stmts_;
};

// One batch, inside the caller's transaction (the store writer's), with statements prepared
// for this call. Returns the number of rows changed.
int apply_outbox_events(SQLite::Database& db, const std::vector<OutboxEvent>& events);

// "2026-12-01T01:02:03.456Z" (UTC, milliseconds), the form of sent_at, delivered_at and
// received_at.
std::string format_epoch_ms(long long at_ms);

}  // namespace loa::campaigns
