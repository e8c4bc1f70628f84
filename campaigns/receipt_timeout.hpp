// Receipts that never come: a message a gateway accepted (`sent`) whose delivery receipt has
// not arrived within its route's timeout (routes.<route>.receipt_timeout_hours) becomes
// `unknown`. Gateways lose receipts (a DLR dropped by an SMSC, a webhook lost in a crash), and
// a message left `sent` for ever would keep the funnel from ever adding up.
//
// Contract:
//  - mark_unknown_outcomes() moves, for each route of `timeouts`, the rows `sent` with
//    sent_at before now - timeout to `unknown` (last_error says why), and counts them in the
//    statistics summary's `unknown` (count_outbox_rows) in the same transaction. It works in
//    chunks of about kChunk rows, one transaction each, oldest first (the
//    outbox_awaiting_receipt index), so the store writer never waits long for the lock.
//  - `unknown` is final for the funnel and the reports, but not for receipts: a receipt that
//    comes later still moves the row to delivered or failed (campaigns/outbox_event.hpp).
//  - Idempotent: a second pass at the same time moves nothing.
//
// Thread-safety: uses its Database from the caller's thread only.
#pragma once

#include <SQLiteCpp/Database.h>

#include <chrono>
#include <map>
#include <string>

#include "campaigns/local_time.hpp"

namespace loa::campaigns {

// route -> how long its messages wait for a receipt.
using ReceiptTimeouts = std::map<std::string, std::chrono::hours>;

// Returns the rows moved to `unknown`.
int mark_unknown_outcomes(SQLite::Database& db, TimePoint now, const ReceiptTimeouts& timeouts);

}  // namespace loa::campaigns
