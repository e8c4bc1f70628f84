// The rule for control and invisible characters in message text, stated once and used for
// template sources, variable values and `loa sms inspect`.
//
// What it is for: household lists come from spreadsheets and old software, and templates are
// typed by people. Stray control bytes and invisible characters cost SMS units, can switch a
// whole message from GSM-7 to UCS-2 (a tab is not GSM-7), and show nothing on the handset.
//
// The rule:
//   - Invalid UTF-8 is an error everywhere. Nothing is replaced by U+FFFD. (A UTF-16 surrogate
//     encoded in UTF-8, as CESU-8 or WTF-8 produce, is invalid UTF-8 and falls under this.)
//   - Line breaks: CR LF and a lone CR become LF, and so do U+2028 and U+2029. LF is GSM-7;
//     a CR LF pair would cost 2 septets for one line break.
//   - TAB becomes one space: TAB is not in GSM-7 and would turn a message into UCS-2.
//   - Other control characters, C0 (U+0000-U+001F), DEL (U+007F) and C1 (U+0080-U+009F), have
//     no meaning in a message:
//       template sources: REJECTED, with line and column, so the operator fixes the file
//       (find_control_character);
//       variable values and inspected text: REMOVED and counted (clean_text), so one stray
//       byte in an imported cell does not block a campaign.
//   - Invisible format characters that cost a UTF-16 unit and show nothing are REMOVED
//     everywhere: zero-width space U+200B, word joiner U+2060, byte-order mark U+FEFF, soft
//     hyphen U+00AD, and the bidirectional controls U+200E, U+200F, U+202A-U+202E and
//     U+2066-U+2069. The zero-width joiner U+200D and non-joiner U+200C are KEPT: they join
//     emoji sequences and some scripts.
//
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "templates/sms_text.hpp"

namespace loa::templates {

struct CleanedText {
  std::string text;
  std::size_t removed = 0;   // control and invisible characters dropped
  std::size_t replaced = 0;  // line breaks and tabs respelled
};

// Applies the rule (removing controls). Error only for invalid UTF-8.
TextResult<CleanedText> clean_text(std::string_view utf8);

// A control character that the rule rejects in a template source.
struct ControlCharacter {
  char32_t code_point = 0;
  std::size_t line = 0;    // 1-based
  std::size_t column = 0;  // 1-based, in characters (code points)
  std::size_t byte_offset = 0;
};

// The first C0 (other than TAB, LF and CR), DEL or C1 control character in `utf8`, if any.
// Precondition: `utf8` is valid UTF-8 (check with validate_utf8 first).
std::optional<ControlCharacter> find_control_character(std::string_view utf8);

// "U+0007" style label, for messages.
std::string code_point_name(char32_t code_point);

}  // namespace loa::templates
