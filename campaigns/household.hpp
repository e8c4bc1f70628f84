// A household as the department's lists describe it, and the small text rules the import and
// the filters share (folding for matching, language from ethnicity).
//
// The area is a path province > commune/ward > village. Since the 2025 reorganisation there is
// no district level; `district` is only the legacy attribute that older lists carry, and nothing
// may depend on it (vietnam-channels.md section 6.2).
//
// Thread-safety: plain values and pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace loa::campaigns {

struct Household {
  std::string household_code;  // the list's code; empty when the list has none
  std::string name;            // head of household
  std::string phone_e164;      // "+84…", empty when the list has no usable mobile number
  std::string phone_raw;       // as written in the list
  std::string carrier;         // carrier_code() of the prefix, empty when unknown
  std::string language;        // BCP-47: vi, rad (Ê Đê), cmo (M'nông), jra (Jarai), …
  std::string language_source; // list | ethnicity | default
  std::string ethnicity;
  std::string category;        // a code of the categories table: poor, near_poor, escaped, …
  std::string province;
  std::string commune;
  std::string village;
  std::string district;        // legacy attribute only
  bool has_zalo = false;
  std::string zalo_user_id;
  bool consent_sms = true;
  bool consent_zalo = true;
  bool opt_out_sms = false;
  bool opt_out_zalo = false;
  std::vector<std::pair<std::string, std::string>> attributes;  // free-form, attr.<name>
};

// A programme category: data from the categories table, not code.
struct Category {
  std::string code;
  std::string label_vi;
  std::vector<std::string> aliases;  // any spelling; matched after fold_key()
};

// Folds text for matching names typed by people: templates::fold_text() (diacritics removed,
// đ -> d, lower case), then everything but ASCII letters and digits dropped. "Mã hộ" -> "maho",
// "Xã/Phường/Thị trấn" -> "xaphuongthitran", "Hộ cận nghèo" -> "hocanngheo".
std::string fold_key(std::string_view text);

// The language of an ethnic group, as far as loa has messages for it: Ê Đê -> rad,
// M'nông -> cmo, Jarai (Gia Rai) -> jra; every other group -> "" (the caller's default).
std::string language_for_ethnicity(std::string_view ethnicity);

// True for a plausible BCP-47 primary tag with optional subtags: "vi", "rad", "vi-VN".
bool is_language_tag(std::string_view tag);

}  // namespace loa::campaigns
