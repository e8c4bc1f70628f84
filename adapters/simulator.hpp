// The simulator gateway: an in-process stand-in for a real SMS or Zalo gateway, for the embedded
// default configuration and for tests. It answers sends after a configurable latency with
// outcomes drawn from configurable rates, honours idempotency the way a real gateway should,
// and pushes delivery receipts and household replies back through GatewayEvents.
//
// Contract (beyond adapters/gateway.hpp):
//  - Each message's outcome, in this order: permanent ("simulated: invalid number"),
//    unreachable ("simulated: no Zalo account"), throttled ("simulated: throttled"), transient
//    (kRetryable "simulated: timeout"), else accepted, each with its rate's share of all
//    messages. The four rates must each lie in [0, 1] and sum to at most 1.
//  - A gateway answers an id the way it answered it the first time, so a re-send (the
//    at-least-once of a crashed dispatcher) can never turn into another outcome: the refusals
//    for good (permanent, unreachable) are a function of the seed, the message's channel and
//    its id, not of the draws, and hold across simulators, processes and restarts; an accepted
//    id is in the ledger (below). Only throttled and transient are drawn, among the messages
//    that are not refused.
//  - The ids of a batch's accepted messages are recorded in the SimulatorLedger with one
//    async_record call. A message whose id the ledger has seen before is a duplicate: it is
//    answered kAccepted with the same provider id as the first time ("sim-" + id) and produces
//    no receipt and no reply, as a gateway that honours idempotency keys would.
//  - A first-time accepted message gets one DeliveryReceipt after receipt_delay (delivered with
//    probability delivered_share, else "simulated: handset unreachable"); a delivered one also
//    gets a Reply, with probability reply_rate, after reply_delay, from the message's phone and
//    zalo_user, with a provider id "sim-r-" + id. One timer serves each batch's receipts and one
//    its replies.
//  - With a non-zero seed the draws are reproducible for a given order of batches; the refusals
//    depend on the seed (0 included) but not on the order.
//  - close() refuses later sends (kRetryable "closed"), answers sends still waiting out their
//    latency the same way, and drops receipts and replies not yet pushed. The destructor
//    calls close().
//
// Lifetime: the timers and completion handlers share an internal state object (not the
// Simulator), so the Simulator may be owned any way and destroyed with work in flight. After
// close() or destruction returns, GatewayEvents is never called again; `done` of sends in flight
// still runs (with "closed" results, or with the ledger's answer if it was already asked), so
// whatever a `done` captures must outlive it. Destroy the Simulator before its io_context.
//
// Thread-safety: async_send, close and stats are safe from any thread, with the io_context run
// on any number of threads: timers and their state live on a strand of their own. GatewayEvents
// callbacks run on that strand, one at a time; they may call close() or async_send().
#pragma once

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "adapters/gateway.hpp"

namespace loa::adapters {

// Per route.
struct SimulatorSettings {
  std::chrono::milliseconds latency{0};  // before a batch is answered; 0 still answers later
  double transient_failure_rate = 0;
  double permanent_failure_rate = 0;
  double unreachable_rate = 0;
  double throttled_rate = 0;
  std::chrono::milliseconds receipt_delay{1000};  // after the answer
  double delivered_share = 0.97;                  // of receipts
  double reply_rate = 0.0;                        // of delivered messages
  std::chrono::milliseconds reply_delay{2000};    // after the answer
  std::uint64_t seed = 0;                         // 0: random
};

// Counters since construction. `accepted` counts first-time acceptances only, so
// requests == accepted + duplicates + permanent + unreachable + throttled + transient + closed.
struct SimulatorStats {
  std::uint64_t requests = 0;    // messages received by async_send
  std::uint64_t accepted = 0;    // first time accepted
  std::uint64_t duplicates = 0;  // accepted again (answered kAccepted, nothing pushed)
  std::uint64_t permanent = 0;
  std::uint64_t unreachable = 0;
  std::uint64_t throttled = 0;
  std::uint64_t transient = 0;  // kRetryable by chance, or because the ledger failed
  std::uint64_t closed = 0;     // kRetryable "closed"
  std::uint64_t receipts = 0;   // pushed (counted also when there is no GatewayEvents)
  std::uint64_t replies = 0;    // pushed
};

// The shared record of ids the simulated gateway accepted, so that duplicates are counted across
// simulators and processes (the engine supplies one backed by Redis).
//
// Contract: async_record calls `done` exactly once, inline or later on any thread, with
// counts[i] = how many times ids[i] has now been accepted, this time included (1: first time).
// An id repeated within `ids` counts each time. A counts vector of another size than `ids`
// means the ledger failed; the simulator then answers those messages kRetryable.
//
// Thread-safety: async_record must be safe from any thread.
class SimulatorLedger {
 public:
  virtual ~SimulatorLedger() = default;
  virtual void async_record(std::vector<std::string> ids,
                            std::function<void(std::vector<long long> counts)> done) = 0;
};

// A SimulatorLedger in memory, for one process. async_record calls `done` inline, after
// releasing its lock. Thread-safety: every member is safe from any thread.
class MemoryLedger final : public SimulatorLedger {
 public:
  void async_record(std::vector<std::string> ids,
                    std::function<void(std::vector<long long> counts)> done) override;
  long long count(const std::string& id) const;  // 0 when never accepted
  std::size_t distinct() const;

 private:
  mutable std::mutex mutex_;
  std::unordered_map<std::string, long long> counts_;  // guarded by mutex_
};

class Simulator final : public Gateway {
 public:
  // Throws std::invalid_argument for rates outside [0, 1], failure rates summing above 1, or
  // negative durations. A null ledger means a MemoryLedger of its own; events may be null.
  Simulator(boost::asio::any_io_executor ex, SimulatorSettings settings,
            std::shared_ptr<SimulatorLedger> ledger = nullptr, GatewayEvents* events = nullptr);
  ~Simulator() override;
  Simulator(const Simulator&) = delete;
  Simulator& operator=(const Simulator&) = delete;

  std::string_view type() const override { return "simulator"; }
  void async_send(std::vector<OutboundMessage> batch, SendDone done) override;
  void close() override;

  SimulatorStats stats() const;

  // The texts replies are drawn from (Vietnamese, UTF-8).
  static std::span<const std::string_view> reply_texts();

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace loa::adapters
