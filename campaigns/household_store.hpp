// Households in the SQLite store (engine/migrations/0002_households.sql): the import's sink,
// and the categories that the import matches against.
//
// Contract:
//  - write() upserts by household code, else (for a row without a code) by phone among the
//    households that have no code either. A row identical to the stored one changes nothing:
//    each row carries a hash of its imported values, so a re-import of the same file counts
//    every row as unchanged and touches no updated_at.
//  - The search columns name_folded, commune_folded and village_folded (migration 0011) are
//    written with the row, folded by templates::fold_text().
//  - Columns the file did not have are left alone on update: an opt-out recorded from a
//    household's STOP reply, or a Zalo id learnt from the OA, survives a re-import of a list
//    that says nothing about them.
//  - Writes go in transactions of `batch_rows`; finish() commits the last one and re-flags
//    shared phones across the whole table (households_phone index), so a campaign sends a
//    shared phone one message. A failed batch is rolled back whole and the error propagates
//    (SQLite::Exception); batches already committed stay, and re-importing completes them.
//  - A first load (the table is empty) is one transaction instead: the secondary indexes are
//    dropped and rebuilt by sorting at the end, which is several times faster than keeping
//    them up to date row by row. Being one transaction, it is all or nothing: a crash leaves
//    the table empty with its indexes, never half-indexed. The WAL grows to about the size of
//    the data for the duration.
//
// Thread-safety: one thread; the Database must not be used by others meanwhile.
#pragma once

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "campaigns/household_import.hpp"

namespace loa::campaigns {

std::vector<Category> load_categories(SQLite::Database& db);

class HouseholdStore : public HouseholdSink {
 public:
  HouseholdStore(SQLite::Database& db, std::string source, std::size_t batch_rows = 5000);
  ~HouseholdStore() override;

  void begin(const HeaderMapping& columns) override;
  void write(const Household& household, std::uint64_t line) override;
  void finish();

  std::uint64_t inserted() const { return inserted_; }
  std::uint64_t updated() const { return updated_; }
  std::uint64_t unchanged() const { return unchanged_; }
  std::uint64_t shared_phone_households() const { return shared_; }

 private:
  void begin_batch();
  void put(SQLite::Statement& st, const Household& h, const std::string& attrs,
           const std::string& hash, std::int64_t id);
  // The folded commune or village (search columns): a province has a few hundred, so folding
  // each once is enough. Cleared when full, so memory stays bounded.
  const std::string& area_fold(const std::string& text);
  static constexpr std::size_t kAreaFoldsMax = 4096;
  std::unordered_map<std::string, std::string> area_folds_;
  SQLite::Database& db_;
  std::string source_;
  std::size_t batch_rows_;
  // Which optional columns the file has: the others are left alone on update.
  bool has_opt_out_sms_ = false, has_opt_out_zalo_ = false, has_consent_sms_ = false,
       has_consent_zalo_ = false, has_has_zalo_ = false;
  std::unique_ptr<SQLite::Transaction> tx_;
  std::size_t in_batch_ = 0;
  std::string now_;  // the batch's timestamp
  bool bulk_ = false;                        // first load: one transaction, indexes rebuilt
  std::vector<std::string> dropped_indexes_;  // their CREATE statements, from sqlite_master
  SQLite::Statement by_code_;
  SQLite::Statement by_phone_;
  SQLite::Statement insert_;
  SQLite::Statement update_;
  std::uint64_t inserted_ = 0, updated_ = 0, unchanged_ = 0, shared_ = 0;
};

}  // namespace loa::campaigns
