#include "campaigns/household_store.hpp"

#include <sqlite3.h>

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <cstdio>

#include "templates/text_fold.hpp"

namespace loa::campaigns {
namespace {

constexpr const char* kColumns =
    "household_code, name, phone_e164, phone_raw, carrier, language, language_source, "
    "ethnicity, category, province, commune, village, district, has_zalo, zalo_user_id, "
    "consent_sms, consent_zalo, opt_out_sms, opt_out_zalo, attributes, source, row_hash, "
    "created_at, updated_at, name_folded, commune_folded, village_folded";

std::string attributes_json(const Household& h) {
  boost::json::object o;
  for (const auto& [k, v] : h.attributes) o[k] = v;
  return boost::json::serialize(o);
}

// A hash of every imported value, so an unchanged row is recognised without comparing columns.
std::string row_hash(const Household& h, const std::string& attrs) {
  std::uint64_t x = 1469598103934665603ULL;
  auto mix = [&x](std::string_view s) {
    for (char c : s) {
      x ^= static_cast<unsigned char>(c);
      x *= 1099511628211ULL;
    }
    x ^= 0x1f;  // field separator
    x *= 1099511628211ULL;
  };
  for (const std::string* s :
       {&h.household_code, &h.name, &h.phone_e164, &h.phone_raw, &h.carrier, &h.language,
        &h.language_source, &h.ethnicity, &h.category, &h.province, &h.commune, &h.village,
        &h.district, &h.zalo_user_id, &attrs})
    mix(*s);
  const char flags[] = {static_cast<char>('0' + h.has_zalo), static_cast<char>('0' + h.consent_sms),
                        static_cast<char>('0' + h.consent_zalo),
                        static_cast<char>('0' + h.opt_out_sms),
                        static_cast<char>('0' + h.opt_out_zalo)};
  mix(std::string_view(flags, sizeof flags));
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(x));
  return buf;
}

// The values outlive the statement's execution, so SQLite need not copy them.
void bind_text_or_null(SQLite::Statement& st, int index, const std::string& value) {
  if (value.empty()) {
    st.bind(index);
  } else {
    st.bindNoCopy(index, value);
  }
}

}  // namespace

std::vector<Category> load_categories(SQLite::Database& db) {
  std::vector<Category> out;
  SQLite::Statement st(db, "SELECT code, label_vi, aliases FROM categories ORDER BY code");
  while (st.executeStep()) {
    Category c;
    c.code = st.getColumn(0).getString();
    c.label_vi = st.getColumn(1).getString();
    const std::string aliases = st.getColumn(2).getString();
    std::size_t start = 0;
    while (start < aliases.size()) {
      auto end = aliases.find('|', start);
      if (end == std::string::npos) end = aliases.size();
      if (end > start) c.aliases.push_back(aliases.substr(start, end - start));
      start = end + 1;
    }
    out.push_back(std::move(c));
  }
  return out;
}

HouseholdStore::HouseholdStore(SQLite::Database& db, std::string source, std::size_t batch_rows)
    : db_(db),
      source_(std::move(source)),
      batch_rows_(batch_rows == 0 ? 1 : batch_rows),
      by_code_(db, "SELECT id, row_hash FROM households WHERE household_code = ?"),
      by_phone_(db,
                "SELECT id, row_hash FROM households WHERE household_code IS NULL AND "
                "phone_e164 = ? LIMIT 1"),
      insert_(db, std::string("INSERT INTO households(") + kColumns +
                      ") VALUES "
                      "(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,?20,?21,"
                      "?22,?29,?29,?30,?31,?32)"),
      update_(db,
              "UPDATE households SET household_code = ?1, name = ?2, phone_e164 = ?3, "
              "phone_raw = ?4, carrier = ?5, language = ?6, language_source = ?7, "
              "ethnicity = ?8, category = ?9, province = ?10, commune = ?11, village = ?12, "
              "district = ?13, "
              "has_zalo = CASE WHEN ?23 THEN ?14 ELSE has_zalo END, "
              "zalo_user_id = COALESCE(?15, zalo_user_id), "
              "consent_sms = CASE WHEN ?24 THEN ?16 ELSE consent_sms END, "
              "consent_zalo = CASE WHEN ?25 THEN ?17 ELSE consent_zalo END, "
              "opt_out_sms = CASE WHEN ?26 THEN ?18 ELSE opt_out_sms END, "
              "opt_out_zalo = CASE WHEN ?27 THEN ?19 ELSE opt_out_zalo END, "
              "attributes = ?20, source = ?21, row_hash = ?22, "
              // A list names this household now: it is no longer an unknown sender, and
              // campaigns may reach it (audience.hpp's audience_condition).
              "unknown = 0, updated_at = ?29, name_folded = ?30, commune_folded = ?31, "
              "village_folded = ?32 WHERE id = ?28") {}

HouseholdStore::~HouseholdStore() = default;

void HouseholdStore::begin(const HeaderMapping& columns) {
  has_opt_out_sms_ = columns.has(ImportField::kOptOutSms);
  has_opt_out_zalo_ = columns.has(ImportField::kOptOutZalo);
  has_consent_sms_ = columns.has(ImportField::kConsentSms);
  has_consent_zalo_ = columns.has(ImportField::kConsentZalo);
  has_has_zalo_ = columns.has(ImportField::kHasZalo) || columns.has(ImportField::kZaloUserId);
  bulk_ = db_.execAndGet("SELECT NOT EXISTS (SELECT 1 FROM households)").getInt() == 1;
  if (bulk_) {
    begin_batch();
    SQLite::Statement st(db_,
                         "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND "
                         "tbl_name = 'households' AND sql IS NOT NULL");
    std::vector<std::string> names;
    while (st.executeStep()) {
      names.push_back(st.getColumn(0).getString());
      dropped_indexes_.push_back(st.getColumn(1).getString());
    }
    st.reset();
    // sql-trusted: index names read from sqlite_master, not user input
    for (const auto& name : names) db_.exec("DROP INDEX \"" + name + "\"");
  }
}  // an uncommitted batch rolls back

void HouseholdStore::begin_batch() {
  tx_ = std::make_unique<SQLite::Transaction>(db_, SQLite::TransactionBehavior::IMMEDIATE);
  in_batch_ = 0;
  // One timestamp per batch: the rows of a batch are written in the same instant anyway, and
  // formatting the time per row costs more than the row's insert.
  now_ = db_.execAndGet("SELECT strftime('%Y-%m-%dT%H:%M:%fZ', 'now')").getString();
}

void HouseholdStore::write(const Household& h, std::uint64_t) {
  if (!tx_) begin_batch();
  const std::string attrs = attributes_json(h);
  const std::string hash = row_hash(h, attrs);

  // A first load skips the lookup for coded rows: the insert itself finds the rare code that
  // a file repeats (UNIQUE), and only then does the row take the lookup path.
  bool inserted = false;
  if (bulk_ && !h.household_code.empty()) {
    try {
      put(insert_, h, attrs, hash, 0);
      inserted = true;
    } catch (const SQLite::Exception& e) {
      if (e.getExtendedErrorCode() != SQLITE_CONSTRAINT_UNIQUE) throw;
      insert_.reset();
    }
  }
  if (inserted) {
    ++inserted_;
  } else {
    SQLite::Statement& find = h.household_code.empty() ? by_phone_ : by_code_;
    find.reset();
    find.bindNoCopy(1, h.household_code.empty() ? h.phone_e164 : h.household_code);
    std::int64_t id = 0;
    bool same = false;
    if (find.executeStep()) {
      id = find.getColumn(0).getInt64();
      same = find.getColumn(1).getString() == hash;
    }
    find.reset();
    if (id != 0 && same) {
      ++unchanged_;
    } else {
      put(id == 0 ? insert_ : update_, h, attrs, hash, id);
      ++(id == 0 ? inserted_ : updated_);
    }
  }
  if (++in_batch_ >= batch_rows_ && !bulk_) {
    tx_->commit();
    tx_.reset();
  }
}

void HouseholdStore::put(SQLite::Statement& st, const Household& h, const std::string& attrs,
                         const std::string& hash, std::int64_t id) {
  st.reset();  // every parameter is bound below, so no clearBindings()
  bind_text_or_null(st, 1, h.household_code);
  st.bindNoCopy(2, h.name);
  bind_text_or_null(st, 3, h.phone_e164);
  st.bindNoCopy(4, h.phone_raw);
  bind_text_or_null(st, 5, h.carrier);
  st.bindNoCopy(6, h.language);
  st.bindNoCopy(7, h.language_source);
  bind_text_or_null(st, 8, h.ethnicity);
  st.bindNoCopy(9, h.category);
  bind_text_or_null(st, 10, h.province);
  bind_text_or_null(st, 11, h.commune);
  bind_text_or_null(st, 12, h.village);
  bind_text_or_null(st, 13, h.district);
  st.bind(14, h.has_zalo ? 1 : 0);
  bind_text_or_null(st, 15, h.zalo_user_id);
  st.bind(16, h.consent_sms ? 1 : 0);
  st.bind(17, h.consent_zalo ? 1 : 0);
  st.bind(18, h.opt_out_sms ? 1 : 0);
  st.bind(19, h.opt_out_zalo ? 1 : 0);
  st.bindNoCopy(20, attrs);
  st.bindNoCopy(21, source_);
  st.bindNoCopy(22, hash);
  st.bindNoCopy(29, now_);
  // Bound with a copy: the folds are temporaries of this call.
  st.bind(30, templates::fold_text(h.name));
  st.bind(31, area_fold(h.commune));
  st.bind(32, area_fold(h.village));
  if (id != 0) {
    st.bind(23, has_has_zalo_ ? 1 : 0);
    st.bind(24, has_consent_sms_ ? 1 : 0);
    st.bind(25, has_consent_zalo_ ? 1 : 0);
    st.bind(26, has_opt_out_sms_ ? 1 : 0);
    st.bind(27, has_opt_out_zalo_ ? 1 : 0);
    st.bind(28, static_cast<std::int64_t>(id));
  }
  st.exec();
}

const std::string& HouseholdStore::area_fold(const std::string& text) {
  auto it = area_folds_.find(text);
  if (it != area_folds_.end()) return it->second;
  if (area_folds_.size() >= kAreaFoldsMax) area_folds_.clear();
  return area_folds_.emplace(text, templates::fold_text(text)).first->second;
}

void HouseholdStore::finish() {
  if (!tx_) begin_batch();
  for (const auto& create : dropped_indexes_) db_.exec(create);
  dropped_indexes_.clear();
  // Phones on more than one household, across everything imported so far.
  db_.exec(
      "CREATE TEMP TABLE IF NOT EXISTS loa_shared_phones(phone TEXT PRIMARY KEY) WITHOUT ROWID");
  db_.exec("DELETE FROM loa_shared_phones");
  db_.exec(
      "INSERT INTO loa_shared_phones SELECT phone_e164 FROM households "
      "WHERE phone_e164 IS NOT NULL GROUP BY phone_e164 HAVING COUNT(*) > 1");
  if (!bulk_)  // a first load has no flags to clear
    db_.exec(
      "UPDATE households SET shared_phone = 0 WHERE shared_phone = 1 AND "
      "(phone_e164 IS NULL OR phone_e164 NOT IN (SELECT phone FROM loa_shared_phones))");
  db_.exec(
      "UPDATE households SET shared_phone = 1 WHERE shared_phone = 0 AND "
      "phone_e164 IN (SELECT phone FROM loa_shared_phones)");
  shared_ = static_cast<std::uint64_t>(
      db_.execAndGet("SELECT COUNT(*) FROM households WHERE shared_phone = 1").getInt64());
  tx_->commit();
  tx_.reset();
}

}  // namespace loa::campaigns
