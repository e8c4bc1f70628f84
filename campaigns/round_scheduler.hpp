// When rounds happen: the pure part of the scheduler, over the store and a given `now`, so
// that due, missed-while-down and recurring rounds are tested with an injected clock.
//
// Contract:
//  - due_rounds(now) creates, for every scheduled or running campaign, the latest round whose
//    time has come (older occurrences missed while loa was down are not sent late: the latest
//    one starts, once). It returns the rounds to work on: pending ones, and expanding ones
//    whose planner stopped beating for `stale_after` (a crashed daemon or CLI).
//  - take_round() makes the caller the round's only planner: pending -> expanding, or a stale
//    expanding round's heartbeat renewed, in one UPDATE that only one caller can win. The
//    campaign becomes running with its first round.
//  - end_campaigns(now): a campaign whose end_at has passed is completed, and its messages not
//    yet sent expire.
//  - complete_campaigns(now): a running one-off campaign (recurrence none) is completed as
//    soon as its rounds are all planned (none pending or expanding) and none of its messages
//    waits to be sent (no outbox row planned or queued); receipts for its sent messages still
//    update the outbox afterwards. Recurring campaigns complete at end_at (end_campaigns).
//
// Thread-safety: one thread per Database.
#pragma once

#include <SQLiteCpp/Database.h>

#include <chrono>
#include <vector>

#include "campaigns/campaign.hpp"

namespace loa::campaigns {

struct DueRound {
  Campaign campaign;
  Round round;
};

std::vector<DueRound> due_rounds(SQLite::Database& db, TimePoint now,
                                 std::chrono::seconds stale_after = std::chrono::seconds(30));
bool take_round(SQLite::Database& db, const DueRound& due, TimePoint now,
                std::chrono::seconds stale_after = std::chrono::seconds(30));
int end_campaigns(SQLite::Database& db, TimePoint now);
int complete_campaigns(SQLite::Database& db, TimePoint now);

}  // namespace loa::campaigns
