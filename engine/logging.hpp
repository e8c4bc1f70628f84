// Logging set-up (spdlog) and the masking that keeps secrets out of logs (DESIGN.md 3.10).
//
// Contract: configure_logging() installs the default logger, writing to stderr either as
// human-readable text or as JSON lines (one object per line with ts, level, logger, msg).
// Log at boundaries only: start-up, config, gateway errors, state changes. Phone numbers go
// through campaigns::mask_phone() (campaigns/phone.hpp, where phone numbers are understood)
// and credentials through redact() before they reach a log line.
//
// Thread-safety: configure_logging() once at start-up, before other threads log; spdlog's
// loggers and the masking functions are safe from any thread afterwards.
#pragma once

#include <string>
#include <string_view>

#include "engine/config.hpp"

namespace loa::engine {

void configure_logging(const LogConfig& config);

// Replaces a secret by "***" plus its last two characters when it is long enough.
std::string redact(std::string_view secret);

}  // namespace loa::engine
