// Which language a household gets a template in.
//
// Rule, per household and channel: the household's language; then its primary subtag ("vi-VN"
// -> "vi"); then each next language of the configured chain (e.g. rad -> vi, cmo -> vi,
// jra -> vi: DESIGN.md lists Ê Đê, M'nông and Jarai beside Vietnamese); then the default
// language. The first of these that has a variant that is not awaiting translation wins.
// A household with no language starts at the default.
//
// LanguageReport counts, over an audience, how many households get each language per channel,
// how many fell back, from which language to which, and why; campaign validation prints it.
//
// Thread-safety: FallbackChain is an immutable value. LanguageReport is a plain accumulator
// (one thread at a time).
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "templates/channel.hpp"
#include "templates/template_library.hpp"

namespace loa::templates {

class FallbackChain {
 public:
  // Default language vi; rad -> vi, cmo -> vi, jra -> vi.
  FallbackChain();

  // Parses a chain written as comma-separated `from:to` pairs, e.g. "rad:vi, cmo:vi, jra:vi"
  // (spaces ignored; empty means no chain). Rejects bad language codes, a language listed twice
  // and loops (rad:cmo, cmo:rad). On error returns nothing and sets *error.
  static std::optional<FallbackChain> parse(std::string_view chain,
                                            std::string_view default_language, std::string* error);

  // The languages to try for a household's language, in order, without repeats.
  std::vector<std::string> candidates(std::string_view language) const;
  const std::string& default_language() const { return default_; }
  // "rad → vi, cmo → vi, jra → vi; default vi"
  std::string describe() const;

 private:
  std::string default_;
  std::vector<std::pair<std::string, std::string>> next_;  // from -> to, in written order
};

enum class FallbackReason {
  kNone,                 // the household's own language
  kNoLanguage,           // the household has no language: the default applies
  kNoVariant,            // the template has no variant in that language for this channel
  kAwaitingTranslation,  // it has one, but it is empty (awaiting translation)
};
// "own language", "household has no language", "no variant", "awaiting translation"
std::string_view to_string(FallbackReason reason);

struct LanguageChoice {
  const Variant* variant = nullptr;  // nullptr: no usable variant on the whole chain
  std::string requested;             // the household's language ("" when none)
  std::string language;              // the chosen variant's language ("" when none)
  FallbackReason reason = FallbackReason::kNone;

  bool fell_back() const { return reason != FallbackReason::kNone; }
};

LanguageChoice choose_variant(const TemplateDef& definition, Channel channel,
                              std::string_view language, const FallbackChain& chain);

class LanguageReport {
 public:
  void add(Channel channel, const LanguageChoice& choice);

  struct LanguageCount {
    Channel channel;
    std::string language;  // "" for households with no usable variant
    std::size_t households;
  };
  struct FallbackCount {
    Channel channel;
    std::string from;  // requested ("" when the household had none)
    std::string to;    // chosen ("" when nothing was usable)
    FallbackReason reason;
    std::size_t households;
  };
  std::vector<LanguageCount> languages() const;  // by channel, then language
  std::vector<FallbackCount> fallbacks() const;  // by channel, from, to, reason
  std::size_t households(Channel channel) const;
  std::size_t fell_back(Channel channel) const;
  std::size_t unresolved(Channel channel) const;  // no usable variant at all

  // Lines such as
  //   sms: vi 1,203; rad→vi 412 (awaiting translation); no variant 0
  std::string describe() const;

 private:
  std::map<std::pair<Channel, std::string>, std::size_t> languages_;
  std::map<std::tuple<Channel, std::string, std::string, FallbackReason>, std::size_t> fallbacks_;
};

}  // namespace loa::templates
