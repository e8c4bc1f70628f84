#include "campaigns/household.hpp"

#include <array>
#include <cctype>

#include "templates/text_fold.hpp"

namespace loa::campaigns {

std::string fold_key(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  bool ascii = true;
  for (char c : text) ascii &= static_cast<unsigned char>(c) < 0x80;
  const std::string folded = ascii ? std::string() : templates::fold_text(text);
  for (char c : ascii ? text : std::string_view(folded)) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x80 && std::isalnum(u)) out.push_back(static_cast<char>(std::tolower(u)));
  }
  return out;
}

std::string language_for_ethnicity(std::string_view ethnicity) {
  // Spellings seen in lists, folded: "Ê Đê", "Ede", "Rhade", "M'Nông", "Mnong", "Bunong",
  // "Gia Rai", "Jarai", "Jrai".
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 9> kGroups = {{
      {"ede", "rad"},
      {"rhade", "rad"},
      {"raday", "rad"},
      {"mnong", "cmo"},
      {"bunong", "cmo"},
      {"pnong", "cmo"},
      {"giarai", "jra"},
      {"jarai", "jra"},
      {"jrai", "jra"},
  }};
  const std::string key = fold_key(ethnicity);
  for (const auto& [group, language] : kGroups)
    if (key == group) return std::string(language);
  return {};
}

bool is_language_tag(std::string_view tag) {
  if (tag.empty() || tag.size() > 35) return false;
  std::size_t i = 0;
  std::size_t primary = 0;
  while (i < tag.size() && std::isalpha(static_cast<unsigned char>(tag[i]))) ++i, ++primary;
  if (primary < 2 || primary > 3) return false;
  while (i < tag.size()) {
    if (tag[i] != '-') return false;
    std::size_t n = 0;
    for (++i; i < tag.size() && std::isalnum(static_cast<unsigned char>(tag[i])); ++i) ++n;
    if (n == 0 || n > 8) return false;
  }
  return true;
}

}  // namespace loa::campaigns
