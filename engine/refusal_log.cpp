#include "engine/refusal_log.hpp"

#include <spdlog/spdlog.h>

#include "engine/metrics.hpp"
#include "templates/campaign_estimate.hpp"

namespace loa::engine {

std::string_view to_string(RefusalReason reason) {
  switch (reason) {
    case RefusalReason::kUnauthorized:
      return "unauthorized";
    case RefusalReason::kMalformed:
      return "malformed";
    case RefusalReason::kBodyTooLarge:
      return "body_too_large";
    case RefusalReason::kHeaderTooLarge:
      return "header_too_large";
    case RefusalReason::kHeaderTimeout:
      return "header_timeout";
    case RefusalReason::kTooManyConnections:
      return "too_many_connections";
    case RefusalReason::kTooManyFromClient:
      return "too_many_from_client";
    case RefusalReason::kAcceptFailed:
      return "accept_failed";
    case RefusalReason::kUploadsFull:
      return "uploads_full";
    case RefusalReason::kNotDurable:
      return "not_durable";
  }
  return "unknown";
}

RefusalLog::RefusalLog(RefusalLogOptions options) : options_(options) {}

void RefusalLog::end_if_over(const std::pair<std::string, RefusalReason>& key, Window& w,
                             Clock::time_point now, bool always) {
  if (!always && now - w.start < options_.interval) return;
  if (w.left_out > 0) {
    const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(now - w.start).count();
    spdlog::warn("http {}: refused ({}) … and {} more in the last {} s", key.first,
                 to_string(key.second), templates::group_digits(w.left_out, ','), seconds);
  }
  w = Window{now, 0, 0};
}

void RefusalLog::refused(std::string_view route, RefusalReason reason, std::string_view detail,
                         Clock::time_point now) {
  metrics::Registry::global()
      .counter("loa_http_refused_total", "Requests and connections refused, by route and reason",
               {{"route", std::string(route)}, {"reason", std::string(to_string(reason))}})
      .add();
  std::lock_guard lock(mutex_);
  auto key = std::make_pair(std::string(route), reason);
  auto [it, fresh] = windows_.try_emplace(key, Window{now, 0, 0});
  if (!fresh) end_if_over(it->first, it->second, now, false);
  Window& w = it->second;
  if (w.logged >= options_.lines_per_interval) {
    ++w.left_out;
    return;
  }
  ++w.logged;
  spdlog::warn("http {}: refused ({}): {}", route, to_string(reason), detail);
}

void RefusalLog::flush(Clock::time_point now, bool final) {
  std::lock_guard lock(mutex_);
  for (auto& [key, w] : windows_) end_if_over(key, w, now, final);
}

}  // namespace loa::engine
