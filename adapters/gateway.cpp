#include "adapters/gateway.hpp"

namespace loa::adapters {

std::string_view to_string(SendClass c) {
  switch (c) {
    case SendClass::kAccepted: return "accepted";
    case SendClass::kRetryable: return "retryable";
    case SendClass::kPermanent: return "permanent";
    case SendClass::kUnreachable: return "unreachable";
    case SendClass::kThrottled: return "throttled";
    case SendClass::kAuth: return "auth";
    case SendClass::kMaybeSent: return "maybe_sent";
  }
  return "unknown";
}

}  // namespace loa::adapters
