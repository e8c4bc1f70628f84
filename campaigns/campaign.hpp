// A campaign: the department's unit of work ("October: health-insurance support to every
// near-poor household, Zalo first then SMS, daytime only, until 31 October"), its lifecycle,
// its rounds, and the TOML file an operator writes it in.
//
// Contract:
//  - Lifecycle: draft -> scheduled -> running -> (paused <-> running) -> completed, and
//    cancelled from any state but completed. transition() refuses anything else and writes
//    every change to audit_log (who, when, from, to) in the same transaction.
//  - Each occurrence of the schedule is a round (recurrence none, daily, weekly, monthly,
//    from start_at while before end_at). rounds.UNIQUE(campaign_id, number) means a round is
//    created once, and take_round() (campaigns/round_scheduler.hpp) moves it from pending to
//    expanding in one UPDATE, so it is never started twice.
//  - parse_campaign_file() names the file, line and key of every error, and checks what it can
//    without the store (times, channels, recurrence); check_campaign() checks the rest (template,
//    segment, routes) before anything is written.
//
// Thread-safety: values and functions over a Database used by one thread at a time.
#pragma once

#include <SQLiteCpp/Database.h>

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "campaigns/local_time.hpp"

namespace loa::campaigns {

class CampaignError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class CampaignState { kDraft, kScheduled, kRunning, kPaused, kCompleted, kCancelled };
std::string_view to_string(CampaignState state);
std::optional<CampaignState> parse_campaign_state(std::string_view text);
bool transition_allowed(CampaignState from, CampaignState to);

enum class Recurrence { kNone, kDaily, kWeekly, kMonthly };
std::string_view to_string(Recurrence recurrence);
std::optional<Recurrence> parse_recurrence(std::string_view text);

struct Campaign {
  std::int64_t id = 0;
  std::string name;
  std::string topic;
  std::string template_key;
  std::string audience;  // a filter expression; empty when `segment` is used
  std::string segment;   // a saved segment's name
  std::vector<std::string> channels = {"sms"};  // in order of preference: zalo_zns, sms
  std::string priority = "bulk";                // bulk | transactional
  TimePoint start_at{};
  TimePoint end_at{};
  Recurrence recurrence = Recurrence::kNone;
  QuietHours quiet_hours;
  int frequency_cap = 0;          // messages per household per window; 0: no cap
  int frequency_window_days = 7;
  std::int64_t budget_vnd = 0;    // 0: no cap
  std::vector<std::pair<std::string, std::string>> variables;  // {{campaign.x}} in templates
  CampaignState state = CampaignState::kDraft;
};

// The due time of round `number` (1-based), or nullopt past end_at.
std::optional<TimePoint> round_due(const Campaign& campaign, int number);

// Reads a campaign file ([campaign] table). Throws CampaignError naming file:line and key.
Campaign parse_campaign_file(const std::string& path);
Campaign parse_campaign_text(const std::string& toml, const std::string& origin);

// ---- the store --------------------------------------------------------------------------

// Inserts a draft; throws CampaignError when the name is taken.
std::int64_t create_campaign(SQLite::Database& db, const Campaign& campaign,
                             const std::string& actor);
// A draft may be changed (every field but its name) or deleted; anything later is the record
// and only moves through transition(). Throws CampaignError otherwise. Audited.
void update_draft(SQLite::Database& db, const Campaign& campaign, const std::string& actor);
void delete_draft(SQLite::Database& db, const Campaign& campaign, const std::string& actor);
std::optional<Campaign> find_campaign(SQLite::Database& db, const std::string& name);
std::optional<Campaign> find_campaign(SQLite::Database& db, std::int64_t id);
std::vector<Campaign> list_campaigns(SQLite::Database& db);

// Moves the campaign to `to`; throws CampaignError when not allowed. Audited.
void transition(SQLite::Database& db, std::int64_t campaign_id, CampaignState to,
                const std::string& actor, const std::string& why = "");

enum class RoundState { kPending, kExpanding, kExpanded, kSkipped, kCancelled };
std::string_view to_string(RoundState state);

struct Round {
  std::int64_t id = 0;
  std::int64_t campaign_id = 0;
  int number = 0;
  TimePoint due_at{};
  RoundState state = RoundState::kPending;
  std::int64_t cursor = 0;  // the last household id expanded
  std::int64_t planned = 0;
};

// Creates round `number` unless it exists; returns it.
Round ensure_round(SQLite::Database& db, const Campaign& campaign, int number);
std::vector<Round> rounds_of(SQLite::Database& db, std::int64_t campaign_id);

}  // namespace loa::campaigns
