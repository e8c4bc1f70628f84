// SMS text engineering: the last step between a rendered template and a gateway.
//
// What it is for: deciding how a piece of text travels as SMS. It validates UTF-8, normalises to
// NFC, decides between the GSM 7-bit default alphabet and UCS-2, counts the segments that a
// gateway bills and that the rate limiter charges (DESIGN.md invariant 3), and transliterates
// Vietnamese to unaccented text ("không dấu") for routes that must stay in GSM-7, without ever
// silently dropping a letter of Ê Đê, M'nông or Jarai (reference/vietnam-channels.md §5, §6.1).
//
// Contract:
//   - Every function takes UTF-8 and never throws and never crashes on bad input: invalid UTF-8
//     is an error result naming the position of the first bad byte.
//   - Positions are 1-based and counted in characters, where a character is one Unicode code
//     point of the caller's input (what an editor counts as a column). Decomposed input such as
//     "e" + U+0302 therefore counts 2. `byte_offset` gives the 0-based byte offset as well.
//   - `count_segments` counts the text exactly as given; it does not normalise, because the count
//     must match the bytes that leave. `apply_policy` normalises to NFC first, then counts.
//   - An empty text counts as 1 segment (see SegmentCount).
//
// Thread-safety: all functions are pure (no shared state); safe to call from any thread/strand.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace loa::templates {

// ---- Numbers from the standards ----------------------------------------------------------------

// 3GPP TS 23.038 §6.1.2.1: the default alphabet packs 160 septets into the 140-octet user data of
// one SMS (3GPP TS 23.040 §9.2.3.16/§9.2.3.24).
inline constexpr std::size_t kGsm7SingleSegmentSeptets = 160;
// 3GPP TS 23.040 §9.2.3.24.1: a concatenated part carries a 6-octet user data header (UDHL + IEI
// 0x00 + length + reference + total + sequence) = 48 bits, i.e. 7 septets with fill bits, leaving
// 153 septets per part.
inline constexpr std::size_t kGsm7MultipartSeptets = 153;
// 3GPP TS 23.038 §6.2.3 (UCS2): 140 octets / 2 = 70 characters in one SMS.
inline constexpr std::size_t kUcs2SingleSegmentUnits = 70;
// 3GPP TS 23.040 §9.2.3.24.1: (140 - 6 octets of UDH) / 2 = 67 UTF-16 units per part.
inline constexpr std::size_t kUcs2MultipartUnits = 67;
// 3GPP TS 23.040 §9.2.3.24.1: the "maximum number of short messages" field is one octet, so a
// concatenated message has at most 255 parts. Gateways cap far lower (e.g. 3 parts / 459 chars,
// vietnam-channels.md §2.6); routes pass their own cap to apply_policy.
inline constexpr std::size_t kMaxConcatenatedSegments = 255;

// ---- Errors ------------------------------------------------------------------------------------

enum class TextErrorCode {
  kInvalidUtf8,         // the input is not well-formed UTF-8
  kNotGsm7,             // gsm7_strict: a character outside GSM 03.38 (basic + extension)
  kWouldLoseCharacter,  // gsm7_transliterate: a character that has no lossless GSM-7 spelling
  kTooManySegments,     // the text needs more parts than the route allows
};

struct TextError {
  TextErrorCode code = TextErrorCode::kInvalidUtf8;
  std::size_t position = 0;     // 1-based character (code point) position in the caller's input;
                                // 0 when the error concerns the whole text (kTooManySegments)
  std::size_t byte_offset = 0;  // 0-based byte offset in the caller's input
  std::string character;        // the offending character (NFC, UTF-8); empty for kInvalidUtf8
  std::string message;          // human-readable; names the character and its position
};

// A value or a TextError, in the style of tl::expected (C++20 has no std::expected).
template <typename T>
class TextResult {
 public:
  TextResult(T value) : data_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit
  TextResult(TextError error) : data_(std::in_place_index<1>, std::move(error)) {}  // NOLINT

  bool ok() const { return data_.index() == 0; }
  explicit operator bool() const { return ok(); }

  // Precondition: ok().
  const T& value() const& { return std::get<0>(data_); }
  T& value() & { return std::get<0>(data_); }
  T&& value() && { return std::get<0>(std::move(data_)); }
  const T& operator*() const& { return value(); }
  const T* operator->() const { return &value(); }

  // Precondition: !ok().
  const TextError& error() const { return std::get<1>(data_); }

 private:
  std::variant<T, TextError> data_;
};

// ---- Validation, normalisation, alphabet -------------------------------------------------------

// Returns nothing for well-formed UTF-8 (RFC 3629: no overlongs, no surrogates, <= U+10FFFF),
// else a kInvalidUtf8 error at the first bad byte.
std::optional<TextError> validate_utf8(std::string_view utf8);

// Unicode Normalization Form C (UAX #15) via utf8proc. Vietnamese typed with a "tổ hợp"
// (combining) input method arrives decomposed; NFC makes it shorter and comparable.
TextResult<std::string> nfc(std::string_view utf8);

// Septets that one code point costs in the GSM 7-bit default alphabet (3GPP TS 23.038 §6.2.1):
// 1 for the basic table, 2 for the extension table (escape 0x1B + char: ^ { } \ [ ~ ] | € and
// form feed), 0 when it is not representable.
int gsm7_septets(char32_t code_point);

// ---- Segments ----------------------------------------------------------------------------------

enum class SmsEncoding { kGsm7, kUcs2 };

// What a text costs as SMS.
//
// Empty text: 1 segment, 0 units, GSM-7. An SMS with empty user data is still one message to the
// SMSC and to every gateway price list we know, and a cost of 0 would let empty messages bypass
// the segment-counted rate limiter; so we never report 0 segments.
struct SegmentCount {
  SmsEncoding encoding = SmsEncoding::kGsm7;
  std::size_t characters = 0;         // code points
  std::size_t units = 0;              // GSM-7 septets (extension chars cost 2) or UTF-16 units
  std::size_t segments = 1;           // SMS parts a gateway will send and bill
  std::size_t units_per_segment = 0;  // the limit that applied: 160/153 (GSM-7) or 70/67 (UCS-2)

  friend bool operator==(const SegmentCount&, const SegmentCount&) = default;
};

// Counts `utf8` exactly as given (no normalisation). GSM-7 if every code point is in the basic or
// extension table, else UCS-2 counted in UTF-16 code units (code points above U+FFFF cost 2; in
// practice gateways send UTF-16 for "UCS-2"). In multipart messages an escape + extension char,
// and a UTF-16 surrogate pair, are never split across parts (a part that cannot fit one ends
// early), so the count can exceed ceil(units / per-part).
TextResult<SegmentCount> count_segments(std::string_view utf8);

// ---- Transliteration to unaccented Vietnamese --------------------------------------------------

// A character that transliteration could not spell in GSM-7 without loss of meaning.
struct LostCharacter {
  std::size_t position = 0;     // 1-based character position in the caller's input
  std::size_t byte_offset = 0;  // 0-based byte offset in the caller's input
  std::string character;        // the grapheme cluster, NFC, UTF-8 (e.g. "ƀ", "ê̆", "😀")
};

struct TransliterationResult {
  // GSM-7 text. Lost characters appear in it as a best-effort fallback (ƀ→b, č→c, ĕ→e, ê̆→e;
  // '?' for anything else) so that it is readable, but a caller that must not lose meaning
  // refuses when `lost` is not empty.
  std::string text;
  std::vector<LostCharacter> lost;  // in input order
  bool changed = false;             // `text` differs from the NFC of the input

  bool lossless() const { return lost.empty(); }
};

// Vietnamese to "không dấu" (vietnam-channels.md §5): each grapheme cluster is decomposed (NFD);
// a Vietnamese letter — a base a e i o u y with at most one tone mark (grave, acute, tilde, hook
// above, dot below) and at most one vowel mark that Vietnamese puts on that base (circumflex on
// a e o, breve on a, horn on o u), or đ/Đ (no Unicode decomposition) — becomes its ASCII base
// letter. Any other character that is in GSM-7 is kept as is (so ñ/Ñ, which Ê Đê uses, survive).
// Typographic punctuation is replaced (“ ” → ", ‘ ’ → ', – — → -, … → ..., no-break space →
// space, tab → space); invisible characters (zero-width space/joiners, word joiner, BOM, soft
// hyphen) are dropped. The Icelandic Ð (U+00D0), a frequent stand-in for Đ in text converted from
// legacy Vietnamese encodings, becomes D.
//
// Everything else is reported in `lost`: the minority-language letters of Ê Đê / M'nông / Jarai
// (ƀ Ƀ č Č ĕ Ĕ ĭ Ĭ ŏ Ŏ ŭ Ŭ ê̆ ô̆ ơ̆ ư̆ ...: stripping them merges phonemes, §6.1), emoji, other
// scripts, and Latin letters with other marks (ç is not GSM-7; only Ç is). Error only for invalid
// UTF-8.
TextResult<TransliterationResult> transliterate_vi(std::string_view utf8);

// ---- Per-route policy --------------------------------------------------------------------------

enum class SmsPolicy {
  kUnicode,            // keep the text (NFC); GSM-7 when it fits the alphabet, else UCS-2
  kGsm7Transliterate,  // transliterate Vietnamese to GSM-7; refuse if a character would be lost
  kGsm7Strict,         // refuse anything that is not GSM-7 already (after NFC)
};

// Config spelling: "unicode", "gsm7_transliterate", "gsm7_strict".
std::string_view to_string(SmsPolicy policy);
std::optional<SmsPolicy> parse_sms_policy(std::string_view name);

struct EncodedSms {
  std::string text;             // what to hand to the gateway (NFC, or transliterated)
  SegmentCount count;           // cost of `text`
  bool transliterated = false;  // true when `text` differs from the NFC of the input
};

// Applies `policy` to `utf8`: validates, normalises to NFC, transliterates or checks as the policy
// says, counts segments, and enforces `max_segments`. Errors name the first offending character
// and its position in the input (kInvalidUtf8, kNotGsm7, kWouldLoseCharacter) or the part count
// (kTooManySegments).
TextResult<EncodedSms> apply_policy(std::string_view utf8, SmsPolicy policy,
                                    std::size_t max_segments = kMaxConcatenatedSegments);

}  // namespace loa::templates
