#include "campaigns/household_import.hpp"

#include <algorithm>
#include <array>
#include <deque>
#include <unordered_map>

#include "campaigns/import_messages.hpp"
#include "campaigns/csv_row_source.hpp"
#include "campaigns/phone.hpp"
#include "campaigns/phone_cell.hpp"
#include "templates/sms_text.hpp"
#include "templates/utf8.hpp"

namespace loa::campaigns {
namespace {

struct FieldSpec {
  ImportField field;
  std::string_view name;
  // Header spellings, already folded (fold_key): Vietnamese first, then English.
  std::array<std::string_view, 12> aliases;
};

// clang-format off
constexpr std::array<FieldSpec, 17> kFields = {{
  {ImportField::kIgnore, "ignore", {"stt", "tt", "sothutu", "no", "index", "rowno"}},
  {ImportField::kHouseholdCode, "household_code",
   {"maho", "mahogiadinh", "mahodan", "mahgd", "ma", "code", "householdcode", "householdid",
    "hhcode", "hhid"}},
  {ImportField::kName, "name",
   {"hovatenchuho", "hotenchuho", "tenchuho", "chuho", "hovaten", "hoten", "ten", "name",
    "fullname", "headname", "headofhousehold"}},
  {ImportField::kPhone, "phone",
   {"sodienthoai", "dienthoai", "sdt", "dt", "didong", "sodidong", "phone", "mobile",
    "phonenumber", "msisdn", "tel"}},
  {ImportField::kEthnicity, "ethnicity", {"dantoc", "ethnicity", "ethnic", "ethnicgroup"}},
  {ImportField::kLanguage, "language", {"ngonngu", "tiengnoi", "language", "lang"}},
  {ImportField::kCategory, "category",
   {"phanloaiho", "phanloai", "loaiho", "doituong", "category", "householdcategory",
    "type"}},
  {ImportField::kProvince, "province", {"tinh", "tinhthanhpho", "tinhthanh", "province"}},
  {ImportField::kCommune, "commune",
   {"xaphuongthitran", "xaphuong", "phuongxa", "xa", "phuong", "xaphuongdackhu", "commune",
    "ward", "communeward"}},
  {ImportField::kVillage, "village",
   {"thonbuon", "thonbuontodanpho", "thon", "buon", "thonto", "village", "hamlet"}},
  {ImportField::kDistrict, "district",
   {"huyenthixathanhpho", "huyenthixa", "huyen", "quanhuyen", "district"}},
  {ImportField::kHasZalo, "has_zalo", {"cozalo", "zalo", "sudungzalo", "haszalo"}},
  {ImportField::kZaloUserId, "zalo_user_id", {"zaloid", "idzalo", "zalouserid"}},
  {ImportField::kConsentSms, "consent_sms", {"dongysms", "dongynhansms", "consentsms"}},
  {ImportField::kConsentZalo, "consent_zalo", {"dongyzalo", "dongynhanzalo", "consentzalo"}},
  {ImportField::kOptOutSms, "opt_out_sms", {"tuchoisms", "ngungsms", "optoutsms"}},
  {ImportField::kOptOutZalo, "opt_out_zalo", {"tuchoizalo", "ngungzalo", "optoutzalo"}},
}};
// clang-format on

const FieldSpec* spec_for_alias(std::string_view folded) {
  for (const auto& f : kFields)
    for (auto alias : f.aliases)
      if (!alias.empty() && alias == folded) return &f;
  return nullptr;
}

std::string trim(std::string_view s) {
  const auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  // Inner runs of spaces collapse: "Nguyễn  Văn   An" is one person.
  std::string out;
  out.reserve(s.size());
  bool space = false;
  for (char c : s) {
    if (is_space(c)) {
      space = true;
      continue;
    }
    if (space && !out.empty()) out.push_back(' ');
    space = false;
    out.push_back(c);
  }
  return out;
}

std::string nfc_or_raw(std::string_view s) {
  auto r = templates::nfc(s);
  return r ? std::move(r.value()) : std::string(s);
}

std::uint64_t hash64(std::string_view s) {  // FNV-1a
  std::uint64_t h = 1469598103934665603ULL;
  for (char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ULL;
  }
  return h;
}

std::string csv_cell(std::string_view s) {
  bool quote = false;
  for (char c : s) quote |= c == ',' || c == '"' || c == '\n' || c == '\r';
  if (!quote) return std::string(s);
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

bool is_report_column(std::string_view folded) {
  for (std::size_t c = 0; c < kReportColumns; ++c)
    for (auto language : {MessageLanguage::kVi, MessageLanguage::kEn})
      if (fold_key(report_column(c, language)) == folded) return true;
  return false;
}

}  // namespace

std::string_view import_field_name(ImportField field) {
  if (field == ImportField::kAttribute) return "attr";
  for (const auto& f : kFields)
    if (f.field == field) return f.name;
  return "?";
}

std::string_view severity_name(IssueSeverity severity) {
  switch (severity) {
    case IssueSeverity::kRejected: return "rejected";
    case IssueSeverity::kWarning: return "warning";
    case IssueSeverity::kFixed: return "fixed";
  }
  return "?";
}

bool HeaderMapping::has(ImportField field) const {
  return std::any_of(columns.begin(), columns.end(),
                     [field](const ColumnTarget& c) { return c.field == field; });
}

std::optional<std::string> parse_column_overrides(std::string_view text, ColumnOverrides& out) {
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = text.find(',', start);
    if (end == std::string_view::npos) end = text.size();
    const std::string entry = trim(text.substr(start, end - start));
    start = end + 1;
    if (entry.empty()) continue;
    const auto eq = entry.rfind('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == entry.size())
      return "--map entry '" + entry + "' must be Header=field";
    const std::string header = trim(entry.substr(0, eq));
    const std::string field = trim(entry.substr(eq + 1));
    bool known = field.rfind("attr.", 0) == 0 && field.size() > 5;
    for (const auto& f : kFields) known |= f.name == field;
    if (!known) {
      std::string names;
      for (const auto& f : kFields) names += std::string(names.empty() ? "" : ", ") + std::string(f.name);
      return "--map entry '" + entry + "': unknown field '" + field + "' (fields: " + names +
             ", attr.<name>)";
    }
    out.emplace_back(header, field);
  }
  return std::nullopt;
}

std::size_t known_columns(const std::vector<std::string_view>& row,
                          const ColumnOverrides& overrides) {
  std::size_t known = 0;
  for (std::string_view cell : row) {
    if (cell.size() > 200) continue;  // a title sentence, not a column name
    const std::string folded = fold_key(cell);
    if (folded.empty()) continue;
    bool hit = spec_for_alias(folded) != nullptr || folded == "ghichu" || folded == "note";
    for (const auto& o : overrides) hit |= fold_key(o.first) == folded;
    known += hit ? 1 : 0;
  }
  return known;
}

std::optional<HeaderMapping> map_header(const std::vector<std::string_view>& header,
                                        const ColumnOverrides& overrides, std::string& error) {
  HeaderMapping m;
  std::vector<std::string> unknown;
  for (std::size_t i = 0; i < header.size(); ++i) {
    std::string name = trim(header[i]);
    if (i == 0 && name.rfind("\xEF\xBB\xBF", 0) == 0) name.erase(0, 3);  // a stray BOM
    const std::string folded = fold_key(name);
    ColumnTarget target;
    bool mapped = false;
    for (const auto& [h, field] : overrides) {
      if (fold_key(h) != folded) continue;
      mapped = true;
      if (field.rfind("attr.", 0) == 0) {
        target.field = ImportField::kAttribute;
        target.attribute = field.substr(5);
      } else {
        for (const auto& f : kFields)
          if (f.name == field) target.field = f.field;
      }
    }
    if (!mapped) {
      if (folded.empty() && name.empty()) {
        mapped = true;  // an empty trailing column, as spreadsheets export
      } else if (const FieldSpec* spec = spec_for_alias(folded)) {
        target.field = spec->field;
        mapped = true;
      } else if (folded == "ghichu" || folded == "note" || folded == "notes") {
        target.field = ImportField::kAttribute;
        target.attribute = "note";
        mapped = true;
      } else if (is_report_column(folded)) {
        mapped = true;  // the import report's own columns: a corrected report imports again
      }
    }
    if (!mapped) unknown.push_back("'" + name + "' (column " + std::to_string(i + 1) + ")");
    if (mapped && target.field != ImportField::kIgnore && target.field != ImportField::kAttribute) {
      for (std::size_t j = 0; j < m.columns.size(); ++j) {
        if (m.columns[j].field == target.field) {
          error = "columns '" + m.headers[j] + "' and '" + name + "' both map to " +
                  std::string(import_field_name(target.field)) +
                  "; skip one with --map '" + name + "=ignore'";
          return std::nullopt;
        }
      }
    }
    m.headers.push_back(std::move(name));
    m.columns.push_back(std::move(target));
  }
  if (!unknown.empty()) {
    std::string list;
    for (const auto& u : unknown) list += (list.empty() ? "" : ", ") + u;
    error = "unknown column" + std::string(unknown.size() > 1 ? "s " : " ") + list +
            "; map with --map 'Header=field' (or Header=attr.<name>, Header=ignore)";
    return std::nullopt;
  }
  std::vector<std::string> missing;
  if (!m.has(ImportField::kHouseholdCode) && !m.has(ImportField::kPhone))
    missing.push_back("household_code or phone (Mã hộ / Số điện thoại)");
  if (!m.has(ImportField::kCategory)) missing.push_back("category (Phân loại hộ)");
  if (!m.has(ImportField::kCommune)) missing.push_back("commune (Xã/Phường/Thị trấn)");
  if (!missing.empty()) {
    std::string list;
    for (const auto& u : missing) list += (list.empty() ? "" : ", ") + u;
    error = "missing required column" + std::string(missing.size() > 1 ? "s: " : ": ") + list;
    return std::nullopt;
  }
  return m;
}

CsvIssueReport::CsvIssueReport(std::ostream& out, MessageLanguage language)
    : out_(out), language_(language) {
  out_ << "\xEF\xBB\xBF";
  for (std::size_t c = 0; c < kReportColumns; ++c)
    out_ << (c ? "," : "") << csv_cell(report_column(c, language_));
  out_ << "\r\n";
}

void CsvIssueReport::issue(const ImportIssue& i) {
  const IssueText text = issue_text(i, language_);
  out_ << i.line << ',' << csv_cell(i.column) << ',' << csv_cell(i.value) << ','
       << csv_cell(severity_text(i.severity, language_)) << ',' << i.reason << ','
       << csv_cell(text.message) << ',' << csv_cell(text.advice) << "\r\n";
  ++written_;
}

std::optional<std::uint64_t> first_non_utf8_line(std::istream& in) {
  std::uint64_t line = 1;
  std::string carry;  // an incomplete sequence at a chunk's end
  std::vector<char> buf(1 << 16);
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    const auto n = static_cast<std::size_t>(in.gcount());
    if (n == 0) break;
    std::string chunk = carry + std::string(buf.data(), n);
    // Keep back the trailing bytes of a sequence that may continue in the next chunk.
    std::size_t cut = templates::utf8_chunk_end(chunk);
    if (!in) cut = chunk.size();  // last chunk: nothing more will come
    const std::string_view body(chunk.data(), cut);
    const std::size_t bad = templates::find_invalid_utf8(body);
    if (bad != std::string_view::npos)
      return line + static_cast<std::uint64_t>(std::count(body.begin(), body.begin() + bad, '\n'));
    line += static_cast<std::uint64_t>(std::count(body.begin(), body.end(), '\n'));
    carry = chunk.substr(cut);
  }
  if (!carry.empty()) return line;
  return std::nullopt;
}

// ---- the import ---------------------------------------------------------------------------

struct HouseholdImport::State {
  const ImportOptions& options;
  HeaderMapping mapping;
  HouseholdSink& sink;
  IssueSink& issues;
  ImportSummary summary;
  std::unordered_map<std::string, std::string> category_by_alias;  // folded -> code
  std::unordered_map<std::string, std::string> text_cache;         // raw -> NFC, bounded
  std::vector<std::pair<std::uint64_t, std::uint64_t>> phones;     // hash, line
  std::vector<std::pair<std::uint64_t, std::uint64_t>> codes;      // hash, line
  std::vector<std::uint64_t> flagged_lines;                        // ascending
  Household h;
  bool row_flagged = false;
  const std::vector<std::string_view>* current_row = nullptr;  // the record being checked

  static constexpr std::size_t kTextCacheMax = 65536;

  void add_issue(std::uint64_t line, std::size_t column, std::string_view value,
                 IssueSeverity severity, std::string reason, std::string detail = {}) {
    ++summary.reasons[reason];
    if (severity == IssueSeverity::kWarning) row_flagged = true;
    issues.issue({line, column < mapping.headers.size() ? mapping.headers[column] : "",
                  std::string(value), severity, std::move(reason), std::move(detail), current_row});
  }

  // NFC for low-cardinality fields (communes, villages, ethnic groups), cached.
  std::string cached_text(std::string_view raw) {
    std::string key = trim(raw);
    auto it = text_cache.find(key);
    if (it != text_cache.end()) return it->second;
    std::string value = nfc_or_raw(key);
    if (text_cache.size() < kTextCacheMax) text_cache.emplace(std::move(key), value);
    return value;
  }

  std::optional<bool> yes_no(std::string_view raw) {
    const std::string k = fold_key(raw);
    static constexpr std::array<std::string_view, 7> kYes = {"co", "yes", "y", "1", "x", "true",
                                                             "dung"};
    static constexpr std::array<std::string_view, 7> kNo = {"khong", "no", "n", "0", "false",
                                                            "k", "ko"};
    if (k.empty()) return std::nullopt;
    for (auto y : kYes)
      if (k == y) return true;
    for (auto n : kNo)
      if (k == n) return false;
    return std::nullopt;
  }

  // The phone cell: what the spreadsheet did to it undone (campaigns/phone_cell.hpp), then
  // normalised. A rejected row reports what must be fixed, not what loa fixed by itself.
  void phone(std::uint64_t line, std::size_t col, bool rejected) {
    PhoneCell cell = read_phone_cell(h.phone_raw);
    if (cell.excel_rounded) {
      add_issue(line, col, h.phone_raw,
                rejected ? IssueSeverity::kRejected : IssueSeverity::kWarning,
                "phone_excel_rounded");
      return;
    }
    PhoneResult p = normalize_phone(cell.number);
    if (!p.ok()) {
      static constexpr std::array<std::string_view, 9> kReason = {
          "phone_ok",        "phone_missing",        "phone_invalid_character",
          "phone_too_short", "phone_too_long",       "phone_foreign",
          "phone_landline",  "phone_unknown_prefix", "phone_unallocated"};
      const auto idx = static_cast<std::size_t>(p.error);
      add_issue(line, col, h.phone_raw,
                rejected ? IssueSeverity::kRejected : IssueSeverity::kWarning,
                std::string(idx < kReason.size() ? kReason[idx] : "phone_invalid"));
      return;
    }
    h.phone_e164 = std::move(p.e164);
    h.carrier = std::string(carrier_code(p.carrier));
    if (!cell.note.empty()) h.attributes.emplace_back("phone_note", nfc_or_raw(cell.note));
    std::string secondary;
    if (!cell.secondary.empty()) {
      const PhoneResult second = normalize_phone(cell.secondary);
      secondary = second.ok() ? second.e164 : cell.secondary;
      h.attributes.emplace_back("phone_secondary", secondary);
    }
    if (rejected) return;
    for (const PhoneCellRepair repair : cell.repairs) {
      switch (repair) {
        case PhoneCellRepair::kApostrophe:
          add_issue(line, col, h.phone_raw, IssueSeverity::kFixed, "phone_apostrophe");
          break;
        case PhoneCellRepair::kDecimalSuffix:
          add_issue(line, col, h.phone_raw, IssueSeverity::kFixed, "phone_decimal_suffix");
          break;
        case PhoneCellRepair::kFullWidth:
          add_issue(line, col, h.phone_raw, IssueSeverity::kFixed, "phone_full_width");
          break;
        case PhoneCellRepair::kScientific:
          add_issue(line, col, h.phone_raw, IssueSeverity::kWarning, "phone_scientific",
                    h.phone_e164);
          break;
        case PhoneCellRepair::kSecondNumber:
          add_issue(line, col, h.phone_raw, IssueSeverity::kWarning, "phone_second_number",
                    secondary);
          break;
        case PhoneCellRepair::kNote:
          add_issue(line, col, h.phone_raw, IssueSeverity::kWarning, "phone_note", cell.note);
          break;
      }
    }
    if (p.converted_from_old_prefix) {
      ++summary.old_prefix_converted;
      add_issue(line, col, h.phone_raw, IssueSeverity::kFixed, "phone_old_prefix", h.phone_e164);
    }
    // Scientific notation drops the zero too; its own warning already says so.
    if (p.restored_leading_zero && std::find(cell.repairs.begin(), cell.repairs.end(),
                                             PhoneCellRepair::kScientific) == cell.repairs.end()) {
      ++summary.leading_zero_restored;
      add_issue(line, col, h.phone_raw, IssueSeverity::kFixed, "phone_leading_zero", h.phone_e164);
    }
  }

  void row(const SourceRow& rec) {
    const std::uint64_t line = rec.line();
    ++summary.rows;
    row_flagged = false;
    h = Household{};
    std::size_t phone_col = 0, category_col = 0, language_col = 0;
    std::string_view category_raw, language_raw;
    bool rejected = false;
    for (std::size_t i = 0; i < mapping.columns.size(); ++i) {
      const std::string_view v = rec.field_or_empty(i);
      const ColumnTarget& target = mapping.columns[i];
      switch (target.field) {
        case ImportField::kIgnore: break;
        case ImportField::kHouseholdCode: h.household_code = trim(v); break;
        case ImportField::kName: h.name = nfc_or_raw(trim(v)); break;
        case ImportField::kPhone:
          h.phone_raw = std::string(v);
          phone_col = i;
          break;
        case ImportField::kEthnicity: h.ethnicity = cached_text(v); break;
        case ImportField::kLanguage:
          language_raw = v;
          language_col = i;
          break;
        case ImportField::kCategory:
          category_raw = v;
          category_col = i;
          break;
        case ImportField::kProvince: h.province = cached_text(v); break;
        case ImportField::kCommune: h.commune = cached_text(v); break;
        case ImportField::kVillage: h.village = cached_text(v); break;
        case ImportField::kDistrict: h.district = cached_text(v); break;
        case ImportField::kZaloUserId: h.zalo_user_id = trim(v); break;
        case ImportField::kAttribute:
          if (!trim(v).empty()) h.attributes.emplace_back(target.attribute, nfc_or_raw(trim(v)));
          break;
        case ImportField::kHasZalo:
        case ImportField::kConsentSms:
        case ImportField::kConsentZalo:
        case ImportField::kOptOutSms:
        case ImportField::kOptOutZalo: {
          auto b = yes_no(v);
          if (!b && !trim(v).empty())
            add_issue(line, i, v, IssueSeverity::kWarning, "unrecognised_yes_no");
          const bool on = b.value_or(target.field == ImportField::kConsentSms ||
                                     target.field == ImportField::kConsentZalo);
          if (target.field == ImportField::kHasZalo) h.has_zalo = on;
          if (target.field == ImportField::kConsentSms) h.consent_sms = on;
          if (target.field == ImportField::kConsentZalo) h.consent_zalo = on;
          if (target.field == ImportField::kOptOutSms) h.opt_out_sms = on;
          if (target.field == ImportField::kOptOutZalo) h.opt_out_zalo = on;
          break;
        }
      }
    }
    if (!h.zalo_user_id.empty()) h.has_zalo = true;
    if (h.province.empty()) h.province = options.default_province;

    // Category: data, matched by any alias. Lists spell a category a handful of ways, so the
    // raw cell is looked up first and folded only once per spelling.
    auto cat = category_by_alias.find(std::string(category_raw));
    if (cat == category_by_alias.end()) {
      cat = category_by_alias.find(fold_key(category_raw));
      if (cat != category_by_alias.end() && category_by_alias.size() < kTextCacheMax)
        cat = category_by_alias.emplace(std::string(category_raw), cat->second).first;
    }
    if (cat == category_by_alias.end()) {
      std::string known;
      for (const auto& c : options.categories) known += (known.empty() ? "" : ", ") + c.label_vi;
      add_issue(line, category_col, category_raw, IssueSeverity::kRejected,
                category_raw.empty() ? "missing_category" : "unknown_category", known);
      rejected = true;
    } else {
      h.category = cat->second;
    }

    // Phone: the spreadsheet's spelling repaired, then normalised to E.164; a household without
    // a usable one is kept, flagged.
    if (mapping.has(ImportField::kPhone)) phone(line, phone_col, rejected);
    if (!rejected && h.household_code.empty() && h.phone_e164.empty()) {
      add_issue(line, phone_col, h.phone_raw, IssueSeverity::kRejected, "no_identity");
      rejected = true;
    }

    // Language: the list's, else the ethnic group's, else the default.
    const std::string lang = trim(language_raw);
    if (!lang.empty() && is_language_tag(lang)) {
      h.language = lang;
      h.language_source = "list";
    } else {
      if (!lang.empty()) {
        add_issue(line, language_col, language_raw, IssueSeverity::kWarning, "unknown_language");
      }
      h.language = language_for_ethnicity(h.ethnicity);
      if (!h.language.empty()) {
        h.language_source = "ethnicity";
      } else {
        h.language = options.default_language;
        h.language_source = "default";
      }
    }

    if (rejected) {
      ++summary.rejected;
      return;
    }
    if (h.phone_e164.empty()) ++summary.without_phone;
    if (h.language_source == "ethnicity") ++summary.language_from_ethnicity;
    if (h.language_source == "default") ++summary.language_default;
    if (!h.phone_e164.empty()) phones.emplace_back(hash64(h.phone_e164), line);
    if (!h.household_code.empty()) codes.emplace_back(hash64(h.household_code), line);
    ++summary.accepted;
    if (row_flagged) {
      ++summary.flagged;
      flagged_lines.push_back(line);
    }
    ++summary.by_category[h.category];
    ++summary.by_language[h.language];
    sink.write(h, line);
  }

  // Rows that share a phone, or repeat a code, found once every row has been seen.
  // Counts an accepted row as flagged once, whichever checks flag it.
  void flag(std::uint64_t line) {
    auto it = std::lower_bound(flagged_lines.begin(), flagged_lines.end(), line);
    if (it != flagged_lines.end() && *it == line) return;
    flagged_lines.insert(it, line);
    ++summary.flagged;
  }

  void cross_row_checks() {
    auto groups = [](std::vector<std::pair<std::uint64_t, std::uint64_t>>& v, auto&& each) {
      std::sort(v.begin(), v.end());
      for (std::size_t i = 0; i < v.size();) {
        std::size_t j = i + 1;
        while (j < v.size() && v[j].first == v[i].first) ++j;
        if (j - i > 1) each(v.begin() + static_cast<std::ptrdiff_t>(i),
                            v.begin() + static_cast<std::ptrdiff_t>(j));
        i = j;
      }
    };
    groups(phones, [&](auto b, auto e) {
      ++summary.shared_phones;
      for (auto it = b; it != e; ++it) {
        ++summary.shared_phone_rows;
        std::string others;
        for (auto o = b; o != e; ++o)
          if (o != it) others += (others.empty() ? "" : ", ") + std::to_string(o->second);
        ++summary.reasons["shared_phone"];
        flag(it->second);
        issues.issue({it->second, "", "", IssueSeverity::kWarning, "shared_phone", others});
      }
    });
    groups(codes, [&](auto b, auto e) {
      for (auto it = b + 1; it != e; ++it) {
        ++summary.duplicate_codes;
        ++summary.reasons["duplicate_code"];
        flag(it->second);
        issues.issue({it->second, "", "", IssueSeverity::kWarning, "duplicate_code",
                      std::to_string(b->second)});
      }
    });
    phones = {};
    codes = {};
    flagged_lines = {};
  }
};

HouseholdImport::HouseholdImport(ImportOptions options) : options_(std::move(options)) {}

ImportSummary HouseholdImport::run(std::istream& in, HouseholdSink& sink, IssueSink& issues,
                                   const std::function<void(const ImportProgress&)>& progress) {
  if (options_.check_encoding_first) {
    const auto start = in.tellg();
    if (start != std::streampos(-1)) {
      if (auto bad = first_non_utf8_line(in)) {
        ImportSummary refused;
        refused.refused_reason = "file_not_utf8";
        refused.refused = std::to_string(*bad);
        return refused;
      }
      in.clear();
      in.seekg(start);
    }
  }
  CsvRowSource source(in, TextEncoding::kUtf8, options_.csv);
  return run(source, sink, issues, progress);
}

namespace {

// "Tổng cộng", "Cộng", "Tổng số", "Total": a printed list's subtotal row, not a household.
bool is_subtotal(const SourceRow& rec) {
  for (std::string_view cell : rec.fields()) {
    if (cell.empty() || cell.size() > 40) continue;
    const char c = cell.front();
    if (c != 'T' && c != 't' && c != 'C' && c != 'c' && c != ' ') continue;
    const std::string k = fold_key(cell);
    if (k == "tongcong" || k == "cong" || k == "tong" || k == "tongso" || k == "total" ||
        k.rfind("tongcong", 0) == 0)
      return true;
  }
  return false;
}

std::string cell_list(const SourceRow& rec) {
  std::string out;
  for (std::string_view cell : rec.fields()) {
    if (trim(cell).empty()) continue;
    if (!out.empty()) out += " | ";
    out += trim(cell).substr(0, 80);
    if (out.size() > 160) break;
  }
  return out;
}

}  // namespace

ImportSummary HouseholdImport::run(RowSource& source, HouseholdSink& sink, IssueSink& issues,
                                   const std::function<void(const ImportProgress&)>& progress) {
  State s{options_, {}, sink, issues, {}, {}, {}, {}, {}, {}, {}, false};
  for (const auto& c : options_.categories) {
    s.category_by_alias.emplace(fold_key(c.code), c.code);
    s.category_by_alias.emplace(fold_key(c.label_vi), c.code);
    for (const auto& a : c.aliases) s.category_by_alias.emplace(fold_key(a), c.code);
  }

  // Rows before the header is known; at most header_search_rows (or up to header_row).
  // A deque: push_back never moves the rows already held, whose cell views point into their own
  // buffers (a vector's reallocation moved them and left the views dangling: fuzz_csv_import).
  std::deque<SourceRow> head;
  bool header_done = false;
  auto data_row = [&](const SourceRow& rec) {
    if (is_subtotal(rec)) {
      ++s.summary.subtotal_rows;
      ++s.summary.reasons["subtotal_row"];
      issues.issue({rec.line(), "", cell_list(rec), IssueSeverity::kFixed, "subtotal_row", ""});
      return;
    }
    s.current_row = &rec.fields();
    s.row(rec);
    s.current_row = nullptr;
    if (progress && (s.summary.rows & 0x3fff) == 0)
      progress({s.summary.rows, s.summary.accepted, s.summary.rejected});
  };
  // Picks the header among `head`, maps it, and reads the rows after it as data. False when
  // the file is refused.
  auto choose_header = [&]() {
    std::size_t pick = 0, best = 0;
    for (std::size_t i = 0; i < head.size(); ++i) {
      if (options_.header_row != 0) {
        if (head[i].line() == options_.header_row) pick = i;
        continue;
      }
      const std::size_t known = known_columns(head[i].fields(), options_.overrides);
      if (known > best) {
        best = known;
        pick = i;
      }
    }
    if (options_.header_row != 0 && (head.empty() || head[pick].line() != options_.header_row)) {
      s.summary.refused_reason = "header_row_missing";
      s.summary.refused = std::to_string(options_.header_row);
      return false;
    }
    const SourceRow& header = head[pick];
    std::string error;
    auto mapping = map_header(header.fields(), options_.overrides, error);
    if (!mapping) {
      s.summary.refused_reason = "header_unusable";
      s.summary.refused = "line " + std::to_string(header.line()) + ": " + error;
      return false;
    }
    s.mapping = std::move(*mapping);
    s.summary.header_line = header.line();
    header_done = true;
    for (std::size_t i = 0; i < pick; ++i) {
      ++s.summary.title_rows;
      ++s.summary.reasons["title_row"];
      issues.issue({head[i].line(), "", cell_list(head[i]), IssueSeverity::kFixed, "title_row",
                    std::to_string(header.line())});
    }
    sink.begin(s.mapping);
    issues.header_row(s.mapping.headers);
    for (std::size_t i = pick + 1; i < head.size(); ++i) data_row(head[i]);
    head = {};
    return true;
  };

  SourceRow rec;
  RowError err;
  bool refused = false;
  while (!refused && source.next(rec, err)) {
    if (err) {
      // A broken record below the rows read so far: the header is among them.
      if (!err.fatal && !header_done && !head.empty() && options_.header_row == 0) {
        refused = !choose_header();
        if (refused) break;
      }
      if (err.fatal || !header_done) {
        s.summary.refused_reason = "file_format";  // worded by the reader, in both languages
        s.summary.refused = err.message;
        s.summary.refused_en = err.message_en;
        refused = true;
        break;
      }
      ++s.summary.rows;
      ++s.summary.rejected;
      s.add_issue(err.line, static_cast<std::size_t>(-1), "", IssueSeverity::kRejected,
                  err.reason.empty() ? "bad_record" : err.reason, err.message);
      continue;
    }
    if (header_done) {
      data_row(rec);
      continue;
    }
    head.push_back(rec);
    head.back().finish();  // the copy's views point into its own buffer
    const bool full = options_.header_row != 0 ? rec.line() >= options_.header_row
                                               : head.size() >= options_.header_search_rows;
    if (full) refused = !choose_header();
  }
  if (!refused && !header_done && !head.empty()) refused = !choose_header();
  s.summary.delimiter = source.delimiter();
  s.summary.source = source.description();
  if (!header_done && s.summary.refused.empty()) {
    s.summary.refused_reason = "file_empty";
    s.summary.refused = "the file is empty";
  }
  if (s.summary.refused.empty()) s.cross_row_checks();
  if (progress) progress({s.summary.rows, s.summary.accepted, s.summary.rejected});
  return s.summary;
}

}  // namespace loa::campaigns
