#include "templates/language_fallback.hpp"

#include <algorithm>

namespace loa::templates {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

void push_unique(std::vector<std::string>& out, std::string_view language) {
  if (language.empty()) return;
  if (std::find(out.begin(), out.end(), language) == out.end()) out.emplace_back(language);
}

}  // namespace

FallbackChain::FallbackChain()
    : default_("vi"), next_{{"rad", "vi"}, {"cmo", "vi"}, {"jra", "vi"}} {}

std::optional<FallbackChain> FallbackChain::parse(std::string_view chain,
                                                  std::string_view default_language,
                                                  std::string* error) {
  const auto fail = [&](std::string message) -> std::optional<FallbackChain> {
    if (error != nullptr) *error = std::move(message);
    return std::nullopt;
  };
  FallbackChain result;
  result.next_.clear();
  result.default_ = std::string(trim(default_language));
  if (!is_language_code(result.default_)) {
    return fail("default language '" + result.default_ + "' is not a language code");
  }
  std::string_view rest = chain;
  while (!trim(rest).empty()) {
    const std::size_t comma = rest.find(',');
    const std::string_view entry = trim(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    const std::size_t colon = entry.find(':');
    if (colon == std::string_view::npos) {
      return fail("'" + std::string(entry) + "' is not a from:to pair (e.g. rad:vi)");
    }
    const std::string from(trim(entry.substr(0, colon)));
    const std::string to(trim(entry.substr(colon + 1)));
    for (const std::string& code : {from, to}) {
      if (!is_language_code(code)) return fail("'" + code + "' is not a language code");
    }
    if (from == to) return fail("'" + from + "' falls back to itself");
    for (const auto& [seen, unused] : result.next_) {
      if (seen == from) return fail("'" + from + "' is listed twice");
    }
    result.next_.emplace_back(from, to);
  }
  // Loops: follow every chain; a chain can visit each language once.
  for (const auto& [start, unused] : result.next_) {
    std::vector<std::string> path{start};
    std::string at = start;
    for (;;) {
      const auto it = std::find_if(result.next_.begin(), result.next_.end(),
                                   [&](const auto& pair) { return pair.first == at; });
      if (it == result.next_.end()) break;
      at = it->second;
      const bool loop = std::find(path.begin(), path.end(), at) != path.end();
      path.push_back(at);
      if (loop) {
        std::string text;
        for (const std::string& step : path) text += (text.empty() ? "" : " → ") + step;
        return fail("the chain loops: " + text);
      }
    }
  }
  return result;
}

std::vector<std::string> FallbackChain::candidates(std::string_view language) const {
  std::vector<std::string> out;
  std::string at(language);
  push_unique(out, at);
  const std::size_t dash = at.find('-');
  if (dash != std::string::npos) {
    at.resize(dash);
    push_unique(out, at);
  }
  while (!at.empty()) {
    const auto it = std::find_if(next_.begin(), next_.end(),
                                 [&](const auto& pair) { return pair.first == at; });
    if (it == next_.end()) break;
    at = it->second;
    if (std::find(out.begin(), out.end(), at) != out.end()) break;  // parse() rules loops out
    out.push_back(at);
  }
  push_unique(out, default_);
  return out;
}

std::string FallbackChain::describe() const {
  std::string out;
  for (const auto& [from, to] : next_) out += (out.empty() ? "" : ", ") + from + " → " + to;
  if (!out.empty()) out += "; ";
  return out + "default " + default_;
}

std::string_view to_string(FallbackReason reason) {
  switch (reason) {
    case FallbackReason::kNone:
      return "own language";
    case FallbackReason::kNoLanguage:
      return "household has no language";
    case FallbackReason::kNoVariant:
      return "no variant";
    case FallbackReason::kAwaitingTranslation:
      return "awaiting translation";
  }
  return "unknown";
}

LanguageChoice choose_variant(const TemplateDef& definition, Channel channel,
                              std::string_view language, const FallbackChain& chain) {
  LanguageChoice choice;
  choice.requested = std::string(language);
  bool first = true;
  for (const std::string& candidate : chain.candidates(language)) {
    const Variant* variant = definition.find(candidate, channel);
    const bool usable = variant != nullptr && !variant->awaiting_translation();
    if (first) {
      // The reason is about the household's own language (or its absence).
      if (language.empty()) {
        choice.reason = FallbackReason::kNoLanguage;
      } else if (!usable) {
        choice.reason =
            variant == nullptr ? FallbackReason::kNoVariant : FallbackReason::kAwaitingTranslation;
      }
      first = false;
    }
    if (usable) {
      choice.variant = variant;
      choice.language = candidate;
      return choice;
    }
  }
  if (first && language.empty()) choice.reason = FallbackReason::kNoLanguage;
  return choice;
}

void LanguageReport::add(Channel channel, const LanguageChoice& choice) {
  ++languages_[{channel, choice.language}];
  if (choice.fell_back() || choice.variant == nullptr) {
    ++fallbacks_[{channel, choice.requested, choice.language, choice.reason}];
  }
}

std::vector<LanguageReport::LanguageCount> LanguageReport::languages() const {
  std::vector<LanguageCount> out;
  for (const auto& [key, count] : languages_) out.push_back({key.first, key.second, count});
  return out;
}

std::vector<LanguageReport::FallbackCount> LanguageReport::fallbacks() const {
  std::vector<FallbackCount> out;
  for (const auto& [key, count] : fallbacks_) {
    out.push_back({std::get<0>(key), std::get<1>(key), std::get<2>(key), std::get<3>(key), count});
  }
  return out;
}

std::size_t LanguageReport::households(Channel channel) const {
  std::size_t total = 0;
  for (const auto& [key, count] : languages_) {
    if (key.first == channel) total += count;
  }
  return total;
}

std::size_t LanguageReport::fell_back(Channel channel) const {
  std::size_t total = 0;
  for (const auto& [key, count] : fallbacks_) {
    if (std::get<0>(key) == channel && !std::get<2>(key).empty()) total += count;
  }
  return total;
}

std::size_t LanguageReport::unresolved(Channel channel) const {
  const auto it = languages_.find({channel, std::string()});
  return it == languages_.end() ? 0 : it->second;
}

std::string LanguageReport::describe() const {
  std::string out;
  for (const Channel channel : kAllChannels) {
    if (households(channel) == 0) continue;
    out += std::string(to_string(channel)) + ": " + std::to_string(households(channel)) +
           " households;";
    for (const auto& [key, count] : languages_) {
      if (key.first != channel || key.second.empty()) continue;
      out += " " + key.second + " " + std::to_string(count) + ";";
    }
    out += " fell back " + std::to_string(fell_back(channel));
    for (const auto& [key, count] : fallbacks_) {
      const auto& [fallback_channel, from, to, reason] = key;
      if (fallback_channel != channel) continue;
      out += std::string(" [") + (from.empty() ? "(none)" : from) + " → " +
             (to.empty() ? "nothing" : to) + ": " + std::to_string(count) + ", " +
             std::string(to_string(reason)) + "]";
    }
    if (unresolved(channel) != 0) {
      out += "; no usable variant " + std::to_string(unresolved(channel));
    }
    out += "\n";
  }
  return out;
}

}  // namespace loa::templates
