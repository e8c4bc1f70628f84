#include "engine/metrics.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace loa::engine::metrics {

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), buckets_(bounds_.size() + 1, 0) {
  std::sort(bounds_.begin(), bounds_.end());
}

void Histogram::observe(double value) {
  const auto it = std::lower_bound(bounds_.begin(), bounds_.end(), value);
  std::lock_guard lock(mutex_);
  ++buckets_[static_cast<std::size_t>(it - bounds_.begin())];
  sum_ += value;
  ++count_;
}

Histogram::Snapshot Histogram::snapshot() const {
  std::lock_guard lock(mutex_);
  Snapshot s;
  std::uint64_t running = 0;
  for (auto n : buckets_) {
    running += n;
    s.cumulative.push_back(running);
  }
  s.sum = sum_;
  s.count = count_;
  return s;
}

std::vector<double> latency_buckets() {
  return {0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600};
}

Registry& Registry::global() {
  static Registry registry;
  return registry;
}

Counter& Registry::counter(const std::string& name, const std::string& help,
                           const Labels& labels) {
  std::lock_guard lock(mutex_);
  auto& family = families_[name];
  if (family.help.empty()) family.help = help;
  auto& slot = family.counters[labels];
  if (!slot) slot = std::make_unique<Counter>();
  return *slot;
}

Histogram& Registry::histogram(const std::string& name, const std::string& help,
                               const Labels& labels, const std::vector<double>& bounds) {
  std::lock_guard lock(mutex_);
  auto& family = families_[name];
  if (family.help.empty()) family.help = help;
  family.histogram = true;
  auto& slot = family.histograms[labels];
  if (!slot) slot = std::make_unique<Histogram>(bounds);
  return *slot;
}

std::string format_labels(const Labels& labels) {
  if (labels.empty()) return {};
  std::string out = "{";
  for (std::size_t i = 0; i < labels.size(); ++i) {
    if (i) out += ',';
    out += labels[i].first + "=\"";
    for (char c : labels[i].second) {
      if (c == '\\' || c == '"')
        out += std::string("\\") + c;
      else if (c == '\n')
        out += "\\n";
      else
        out += c;
    }
    out += '"';
  }
  return out + "}";
}

namespace {
std::string number(double v) { return fmt::format("{}", v); }
}  // namespace

std::string Registry::expose(const std::vector<GaugeSample>& gauges) const {
  std::string out;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [name, family] : families_) {
      out += "# HELP " + name + " " + family.help + "\n";
      out += "# TYPE " + name + (family.histogram ? " histogram\n" : " counter\n");
      for (const auto& [labels, c] : family.counters)
        out += name + format_labels(labels) + " " + std::to_string(c->value()) + "\n";
      for (const auto& [labels, h] : family.histograms) {
        const auto s = h->snapshot();
        for (std::size_t i = 0; i <= h->bounds().size(); ++i) {
          Labels with = labels;
          with.emplace_back("le", i < h->bounds().size() ? number(h->bounds()[i]) : "+Inf");
          out += name + "_bucket" + format_labels(with) + " " + std::to_string(s.cumulative[i]) +
                 "\n";
        }
        out += name + "_sum" + format_labels(labels) + " " + number(s.sum) + "\n";
        out += name + "_count" + format_labels(labels) + " " + std::to_string(s.count) + "\n";
      }
    }
  }
  std::string last;
  for (const auto& g : gauges) {
    if (g.name != last) {
      out += "# HELP " + g.name + " " + g.help + "\n";
      out += "# TYPE " + g.name + (g.counter ? " counter\n" : " gauge\n");
      last = g.name;
    }
    out += g.name + format_labels(g.labels) + " " + number(g.value) + "\n";
  }
  return out;
}

}  // namespace loa::engine::metrics
