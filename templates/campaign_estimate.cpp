#include "templates/campaign_estimate.hpp"

namespace loa::templates {

PricedMessage priced(const RenderedMessage& message) {
  return PricedMessage{message.route, message.language.language, message.units, message.cost_vnd};
}

void EstimateBuilder::add(const PricedMessage& message) {
  auto route = lines_.find(message.route);
  if (route == lines_.end())
    route =
        lines_
            .emplace(std::string(message.route), std::map<std::string, EstimateLine, std::less<>>())
            .first;
  auto it = route->second.find(message.language);
  if (it == route->second.end()) {
    EstimateLine line;
    line.route = std::string(message.route);
    line.language = std::string(message.language);
    it = route->second.emplace(line.language, std::move(line)).first;
  }
  EstimateLine& line = it->second;
  ++line.messages;
  line.units += message.units;
  line.cost_vnd += message.cost_vnd;
}

void EstimateBuilder::add(const RenderedMessage& message) {
  if (!message.ok()) {
    ++unsendable_;
    return;
  }
  add(priced(message));
}

CampaignEstimate EstimateBuilder::result() const {
  CampaignEstimate estimate;
  estimate.unsendable = unsendable_;
  for (const auto& [route_name, languages] : lines_) {
    EstimateLine total;
    total.route = route_name;
    for (const auto& [language, line] : languages) {
      estimate.lines.push_back(line);
      total.messages += line.messages;
      total.units += line.units;
      total.cost_vnd += line.cost_vnd;
    }
    estimate.messages += total.messages;
    estimate.units += total.units;
    estimate.cost_vnd += total.cost_vnd;
    estimate.routes.push_back(std::move(total));
  }
  return estimate;
}

CampaignEstimate estimate_campaign(std::span<const PricedMessage> messages) {
  EstimateBuilder builder;
  for (const PricedMessage& message : messages) builder.add(message);
  return builder.result();
}

CampaignEstimate estimate_campaign(std::span<const RenderedMessage> messages) {
  EstimateBuilder builder;
  for (const RenderedMessage& message : messages) builder.add(message);
  return builder.result();
}

std::string format_vnd(std::int64_t amount) {
  const bool negative = amount < 0;
  // Work on the unsigned magnitude so that INT64_MIN does not overflow.
  std::uint64_t magnitude =
      negative ? ~static_cast<std::uint64_t>(amount) + 1 : static_cast<std::uint64_t>(amount);
  std::string out = group_digits(magnitude, '.');
  return negative ? "-" + out : out;
}

std::string group_digits(std::uint64_t n, char separator) {
  std::string digits = std::to_string(n);
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i != 0 && (digits.size() - i) % 3 == 0) out.push_back(separator);
    out.push_back(digits[i]);
  }
  return out;
}

}  // namespace loa::templates
