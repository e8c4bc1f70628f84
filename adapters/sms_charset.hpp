// The character sets an SMS crosses on its way through a gateway: whether a UTF-8 text fits the
// GSM 7-bit default alphabet (else it must travel as UCS-2), and the payloads gateways hand back
// in UTF-16BE or Latin-1, turned into UTF-8 (reference/kannel-facts.md "(b) MO").
//
// Contract: nothing here throws. Invalid input never fits GSM-7; conversions replace what they
// cannot decode with U+FFFD, so a household's reply is never dropped for one bad byte.
//
// Thread-safety: pure functions; safe from any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace loa::adapters {

// True when `utf8` is well-formed and every character is in the GSM 03.38 default alphabet or
// its extension table (3GPP TS 23.038 §6.2.1; reference/vietnam-channels.md §5). Vietnamese
// letters other than à è é ì ò ù É are not, so accented Vietnamese needs UCS-2.
bool fits_gsm7(std::string_view utf8);

// True when `utf8` is well-formed UTF-8 (RFC 3629).
bool is_utf8(std::string_view utf8);

// Text in `charset` as UTF-8. Known (case-insensitive): UTF-8 (also when empty), UTF-16BE,
// UTF-16 and UCS-2 (big-endian, RFC 2781 §4.3), ISO-8859-1 and Latin1; nullopt for others.
std::optional<std::string> to_utf8(std::string_view bytes, std::string_view charset);

}  // namespace loa::adapters
