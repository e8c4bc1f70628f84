// What a campaign will cost: total segments (or Zalo messages) and VND, by route and language,
// summed over rendered messages.
//
// What it is for: validation before launch (issue [4/10]) shows this, and a budget cap is
// checked against it. It is a pure sum over messages that were already rendered and priced
// (render_message), so the planner can feed it page by page and memory stays flat:
// EstimateBuilder accumulates, estimate_campaign() is the one-shot form.
//
// Units: for SMS a unit is one segment (the gateway's billing unit, and the rate limiter's cost,
// DESIGN.md invariant 3); for Zalo it is one message. Money is whole VND.
//
// Thread-safety: EstimateBuilder is a plain accumulator (one thread at a time); the function is
// pure.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "templates/rendered_message.hpp"

namespace loa::templates {

// The part of a rendered message that an estimate needs.
struct PricedMessage {
  std::string_view route;
  std::string_view language;  // the language actually sent (after fallback)
  std::size_t units = 0;
  std::int64_t cost_vnd = 0;
};

// Only messages that can be sent count (a message with errors is counted in `unsendable`).
PricedMessage priced(const RenderedMessage& message);

struct EstimateLine {
  std::string route;
  std::string language;  // "" on a route's total line
  std::size_t messages = 0;
  std::size_t units = 0;
  std::int64_t cost_vnd = 0;

  friend bool operator==(const EstimateLine&, const EstimateLine&) = default;
};

struct CampaignEstimate {
  std::vector<EstimateLine> lines;   // by route, then language
  std::vector<EstimateLine> routes;  // one per route, language ""
  std::size_t messages = 0;
  std::size_t units = 0;
  std::int64_t cost_vnd = 0;
  std::size_t unsendable = 0;  // rendered messages with errors, not in the totals
};

class EstimateBuilder {
 public:
  void add(const PricedMessage& message);
  void add(const RenderedMessage& message);  // counts an unsendable one apart
  CampaignEstimate result() const;

 private:
  // route -> language -> line; transparent comparators so a lookup by string_view allocates
  // nothing.
  std::map<std::string, std::map<std::string, EstimateLine, std::less<>>, std::less<>> lines_;
  std::size_t unsendable_ = 0;
};

CampaignEstimate estimate_campaign(std::span<const PricedMessage> messages);
CampaignEstimate estimate_campaign(std::span<const RenderedMessage> messages);

// "1.234.567" (Vietnamese digit grouping) for VND amounts in reports.
std::string format_vnd(std::int64_t amount);
// The digits of `n` in groups of three: "1.234.567" with '.' (Vietnamese, for people), or
// "1,234,567" with ',' (the English of the logs).
std::string group_digits(std::uint64_t n, char separator);

}  // namespace loa::templates
