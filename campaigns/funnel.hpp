// A campaign's funnel: how many of its messages are where, what failed and why, what it cost
// so far, and how many households replied. For `loa campaign show` (and its --json, which
// scripts poll), the API and reports.
//
// Contract: campaign_funnel() reads the outbox with one GROUP BY over the campaign's rows
// (the outbox_campaign_state index) and counts its replies; it writes nothing. cost_vnd is
// what the gateways were handed: messages sent, delivered, or failed after sending (an
// undelivered receipt), since the carrier charges for those.
//
// Thread-safety: one thread per Database.
#pragma once

#include <SQLiteCpp/Database.h>

#include <string>
#include <utility>
#include <vector>

namespace loa::campaigns {

struct Funnel {
  long long planned = 0;
  long long queued = 0;
  long long sent = 0;
  long long delivered = 0;
  long long failed = 0;
  long long expired = 0;
  long long cancelled = 0;
  long long unknown = 0;  // sent, and no receipt came within the route's receipt timeout
  std::vector<std::pair<std::string, long long>> failed_by_reason;  // most frequent first
  long long cost_vnd = 0;
  long long replies = 0;
  // Messages that moved to a fallback channel (their first channel reported the household
  // unreachable), by the channel given up: {"zalo_zns": 120}. Counted within the states above.
  std::vector<std::pair<std::string, long long>> fallbacks;

  long long total() const {
    return planned + queued + sent + delivered + failed + expired + cancelled + unknown;
  }
};

Funnel campaign_funnel(SQLite::Database& db, long long campaign_id);

}  // namespace loa::campaigns
