#include "adapters/simulator.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <atomic>
#include <iterator>
#include <optional>
#include <random>
#include <stdexcept>
#include <utility>

namespace loa::adapters {

namespace {

namespace asio = boost::asio;

// What households answer a broadcast with, in the forms the replies inbox has to handle: a
// thank-you, a keyword in capitals, a question, a digit choosing a menu option, a refusal.
constexpr std::string_view kReplyTexts[] = {
    "Cảm ơn cán bộ",
    "HỎI",
    "Cho tôi hỏi thủ tục làm thẻ BHYT",
    "1",
    "TỪ CHỐI",
    "Đã nhận được, cảm ơn",
    "Khi nào được nhận tiền hỗ trợ ạ?",
    "Gia đình tôi đã chuyển đi nơi khác",
};

const std::string kClosed = "closed";

void require(bool ok, const char* what) {
  if (!ok) throw std::invalid_argument(std::string("simulator settings: ") + what);
}

bool is_share(double x) { return x >= 0.0 && x <= 1.0; }

void validate(const SimulatorSettings& s) {
  require(is_share(s.permanent_failure_rate) && is_share(s.unreachable_rate) &&
              is_share(s.throttled_rate) && is_share(s.transient_failure_rate),
          "failure rates must lie in [0, 1]");
  require(
      s.permanent_failure_rate + s.unreachable_rate + s.throttled_rate + s.transient_failure_rate <=
          1.0 + 1e-9,
      "failure rates must sum to at most 1");
  require(is_share(s.delivered_share), "delivered_share must lie in [0, 1]");
  require(is_share(s.reply_rate), "reply_rate must lie in [0, 1]");
  require(s.latency.count() >= 0 && s.receipt_delay.count() >= 0 && s.reply_delay.count() >= 0,
          "durations must not be negative");
}

std::vector<SendResult> closed_results(std::size_t n) {
  return std::vector<SendResult>(n, SendResult{SendClass::kRetryable, "", kClosed});
}

std::string provider_id(const std::string& message_id) { return "sim-" + message_id; }

// A number in [0, 1) that depends only on the seed, the channel and the message id (FNV-1a,
// then splitmix64's finaliser to spread it): the simulator's verdict on whether the recipient
// can take the message at all. Uniform over ids, so the refusal rates hold; the channel is
// mixed in so that a household's verdict on Zalo says nothing about its SMS.
double refusal_draw(std::uint64_t seed, const OutboundMessage& m) {
  std::uint64_t h = 14695981039346656037ull;
  auto mix = [&h](std::string_view bytes) {
    for (unsigned char b : bytes) {
      h ^= b;
      h *= 1099511628211ull;
    }
  };
  mix(m.channel);
  mix(std::string_view("\0", 1));
  mix(m.id);
  std::uint64_t z = h ^ (seed * 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  z ^= z >> 31;
  return static_cast<double>(z >> 11) * 0x1.0p-53;
}

// A message the draws accepted, with what happens to it after, should it be its first time.
struct Candidate {
  std::size_t index = 0;  // in the batch
  DeliveryReceipt receipt;
  std::optional<Reply> reply;
};

}  // namespace

struct Simulator::State : std::enable_shared_from_this<State> {
  State(asio::any_io_executor ex, SimulatorSettings s, std::shared_ptr<SimulatorLedger> l,
        GatewayEvents* e)
      : strand(asio::make_strand(std::move(ex))),
        settings(s),
        ledger(l ? std::move(l) : std::make_shared<MemoryLedger>()),
        events(e),
        rng(s.seed != 0 ? s.seed : std::random_device{}()) {}

  const asio::strand<asio::any_io_executor> strand;
  const SimulatorSettings settings;
  const std::shared_ptr<SimulatorLedger> ledger;
  GatewayEvents* const events;

  std::mutex rng_mutex;
  std::mt19937_64 rng;  // guarded by rng_mutex

  std::atomic<bool> closed{false};
  // Held while GatewayEvents runs and while close() sets `closed`, so that no event is pushed
  // once close() has returned. Recursive because an event handler may call close().
  std::recursive_mutex push_mutex;

  // Pending timers, touched only on `strand`. Weak, since each timer is owned by its handler:
  // were the state to own them, a state and its timers would keep each other alive.
  std::unordered_map<std::uint64_t, std::weak_ptr<asio::steady_timer>> timers;
  std::uint64_t next_timer = 0;

  std::atomic<std::uint64_t> requests{0}, accepted{0}, duplicates{0}, permanent{0}, unreachable{0},
      throttled{0}, transient{0}, refused{0}, receipts{0}, replies{0};

  // On `strand`: runs fn(error_code) after `delay`, or with operation_aborted on close().
  template <class Fn>
  void start_timer(std::chrono::milliseconds delay, Fn fn) {
    auto timer = std::make_shared<asio::steady_timer>(strand, delay);
    const std::uint64_t id = next_timer++;
    timers.emplace(id, timer);
    timer->async_wait([self = shared_from_this(), timer, id,
                       fn = std::move(fn)](boost::system::error_code ec) mutable {
      self->timers.erase(id);
      fn(ec);
    });
  }

  // On `strand`.
  void cancel_timers() {
    for (auto& [id, weak] : timers) {
      if (auto timer = weak.lock()) timer->cancel();
    }
    timers.clear();
  }

  void refuse(std::size_t n, Gateway::SendDone& done) {
    refused += n;
    done(closed_results(n));
  }

  // On `strand`, once the latency has passed: decides each message's outcome and asks the
  // ledger about the accepted ones. A refusal for good (permanent, unreachable) is a fact about
  // the recipient, as at a real gateway, not a roll of the dice: it is a function of the
  // channel and the id (refusal_draw), so a re-sent id is refused again the same way, in any
  // process and after any restart, and can never be accepted on a second try. Only what a
  // real gateway may answer differently on a re-send (throttled, a timeout) is drawn.
  void decide(std::vector<OutboundMessage> batch, Gateway::SendDone done) {
    std::vector<SendResult> results(batch.size());
    std::vector<Candidate> candidates;
    const SimulatorSettings& s = settings;
    const double refusal_share = s.permanent_failure_rate + s.unreachable_rate;
    {
      std::lock_guard lock(rng_mutex);
      std::uniform_real_distribution<double> uniform(0.0, 1.0);
      for (std::size_t i = 0; i < batch.size(); ++i) {
        const OutboundMessage& m = batch[i];
        const double verdict = refusal_draw(s.seed, m);
        SendResult& r = results[i];
        if (verdict < s.permanent_failure_rate) {
          r = {SendClass::kPermanent, "", "simulated: invalid number"};
          ++permanent;
          continue;
        }
        if (verdict < refusal_share) {
          r = {SendClass::kUnreachable, "", "simulated: no Zalo account"};
          ++unreachable;
          continue;
        }
        // The recipient can be reached: throttled and transient keep their shares of all
        // messages, drawn among the reachable ones.
        double u = uniform(rng) * (1.0 - refusal_share);
        if ((u -= s.throttled_rate) < 0) {
          r = {SendClass::kThrottled, "", "simulated: throttled"};
          ++throttled;
        } else if ((u -= s.transient_failure_rate) < 0) {
          r = {SendClass::kRetryable, "", "simulated: timeout"};
          ++transient;
        } else {
          Candidate c;
          c.index = i;
          c.receipt.message_id = m.id;
          c.receipt.provider_id = provider_id(m.id);
          c.receipt.delivered = uniform(rng) < s.delivered_share;
          if (!c.receipt.delivered) c.receipt.reason = "simulated: handset unreachable";
          if (c.receipt.delivered && uniform(rng) < s.reply_rate) {
            std::uniform_int_distribution<std::size_t> pick(0, std::size(kReplyTexts) - 1);
            c.reply = Reply{
                m.phone, m.zalo_user, std::string(kReplyTexts[pick(rng)]), "sim-r-" + m.id, {}};
          }
          candidates.push_back(std::move(c));
        }
      }
    }
    if (candidates.empty()) {
      done(std::move(results));
      return;
    }
    std::vector<std::string> ids;
    ids.reserve(candidates.size());
    for (const Candidate& c : candidates) ids.push_back(batch[c.index].id);
    ledger->async_record(std::move(ids),
                         [self = shared_from_this(), results = std::move(results),
                          candidates = std::move(candidates),
                          done = std::move(done)](std::vector<long long> counts) mutable {
                           self->recorded(std::move(results), std::move(candidates), counts, done);
                         });
  }

  // On any thread (the ledger's): completes the results and schedules what first-time
  // acceptances push.
  void recorded(std::vector<SendResult> results, std::vector<Candidate> candidates,
                const std::vector<long long>& counts, Gateway::SendDone& done) {
    if (counts.size() != candidates.size()) {
      for (const Candidate& c : candidates) {
        results[c.index] = {SendClass::kRetryable, "", "simulated: ledger unavailable"};
      }
      transient += candidates.size();
      done(std::move(results));
      return;
    }
    std::vector<Candidate> fresh;
    for (std::size_t k = 0; k < candidates.size(); ++k) {
      Candidate& c = candidates[k];
      results[c.index] = {SendClass::kAccepted, c.receipt.provider_id, ""};
      if (counts[k] > 1) {
        ++duplicates;
      } else {
        ++accepted;
        fresh.push_back(std::move(c));
      }
    }
    if (!fresh.empty() && !closed) {
      asio::post(strand, [self = shared_from_this(), fresh = std::move(fresh)]() mutable {
        self->schedule_pushes(std::move(fresh));
      });
    }
    done(std::move(results));
  }

  // On `strand`: one timer for the batch's receipts, one for its replies.
  void schedule_pushes(std::vector<Candidate> fresh) {
    if (closed) return;
    std::vector<DeliveryReceipt> batch_receipts;
    std::vector<Reply> batch_replies;
    for (Candidate& c : fresh) {
      batch_receipts.push_back(std::move(c.receipt));
      if (c.reply) batch_replies.push_back(std::move(*c.reply));
    }
    start_timer(settings.receipt_delay,
                [self = shared_from_this(),
                 batch_receipts = std::move(batch_receipts)](boost::system::error_code ec) mutable {
                  if (!ec) self->push(batch_receipts, &GatewayEvents::on_receipt, self->receipts);
                });
    if (batch_replies.empty()) return;
    start_timer(settings.reply_delay,
                [self = shared_from_this(),
                 batch_replies = std::move(batch_replies)](boost::system::error_code ec) mutable {
                  if (!ec) self->push(batch_replies, &GatewayEvents::on_reply, self->replies);
                });
  }

  // On `strand`: pushes events one at a time, stopping at close().
  template <class Event>
  void push(std::vector<Event>& batch_events, void (GatewayEvents::*sink)(Event),
            std::atomic<std::uint64_t>& counter) {
    for (Event& e : batch_events) {
      std::lock_guard lock(push_mutex);
      if (closed) return;
      e.at = std::chrono::system_clock::now();
      ++counter;
      if (events != nullptr) (events->*sink)(std::move(e));
    }
  }
};

Simulator::Simulator(asio::any_io_executor ex, SimulatorSettings settings,
                     std::shared_ptr<SimulatorLedger> ledger, GatewayEvents* events) {
  validate(settings);
  state_ = std::make_shared<State>(std::move(ex), settings, std::move(ledger), events);
}

Simulator::~Simulator() { close(); }

void Simulator::async_send(std::vector<OutboundMessage> batch, SendDone done) {
  State& st = *state_;
  st.requests += batch.size();
  asio::post(
      st.strand, [self = state_, batch = std::move(batch), done = std::move(done)]() mutable {
        if (self->closed) {
          self->refuse(batch.size(), done);
          return;
        }
        const auto latency = self->settings.latency;
        self->start_timer(latency, [self, batch = std::move(batch),
                                    done = std::move(done)](boost::system::error_code ec) mutable {
          if (ec || self->closed) {
            self->refuse(batch.size(), done);
            return;
          }
          self->decide(std::move(batch), std::move(done));
        });
      });
}

void Simulator::close() {
  {
    std::lock_guard lock(state_->push_mutex);
    if (state_->closed.exchange(true)) return;
  }
  asio::post(state_->strand, [self = state_] { self->cancel_timers(); });
}

SimulatorStats Simulator::stats() const {
  const State& st = *state_;
  return SimulatorStats{st.requests,  st.accepted,  st.duplicates, st.permanent, st.unreachable,
                        st.throttled, st.transient, st.refused,    st.receipts,  st.replies};
}

std::span<const std::string_view> Simulator::reply_texts() { return kReplyTexts; }

void MemoryLedger::async_record(std::vector<std::string> ids,
                                std::function<void(std::vector<long long> counts)> done) {
  std::vector<long long> counts;
  counts.reserve(ids.size());
  {
    std::lock_guard lock(mutex_);
    for (std::string& id : ids) counts.push_back(++counts_[std::move(id)]);
  }
  done(std::move(counts));
}

long long MemoryLedger::count(const std::string& id) const {
  std::lock_guard lock(mutex_);
  auto it = counts_.find(id);
  return it == counts_.end() ? 0 : it->second;
}

std::size_t MemoryLedger::distinct() const {
  std::lock_guard lock(mutex_);
  return counts_.size();
}

}  // namespace loa::adapters
