// Routes as templates see them: how a channel's text is encoded, how long it may be, and what
// it costs. (The gateway side of a route, its adapter and rate, is engine and adapters
// business.)
//
// SMS modes (the per-route policy of issue [3/10]):
//   unicode      keep the text (NFC): GSM-7 when it fits the alphabet, else UCS-2;
//   ascii        send "không dấu": Vietnamese diacritics removed, đ→d (transliterate_vi). A
//                character with no lossless GSM-7 spelling is an error, unless the route allows
//                stripping minority letters (ƀ→b, č→c, ĕ→e, ê̆→e, …), which it then does with a
//                warning naming each, because meaning changes (vietnam-channels.md §6.1). Emoji
//                and other scripts are never stripped;
//   auto         the route prefers unaccented text when it saves segments: the unaccented form
//                is sent when transliteration loses nothing and needs fewer segments; otherwise
//                the accented text (same price, easier to read) is sent. Text with minority
//                letters stays Unicode;
//   gsm7_strict  refuse anything that is not GSM-7 after NFC.
// Every mode then enforces the route's maximum number of segments: more is an error
// (kTooManySegments), caught at validation before launch.
//
// Prices are whole VND: per SMS segment, or per Zalo message.
//
// Thread-safety: Route and RouteTable are plain values; the functions are pure.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "templates/channel.hpp"
#include "templates/sms_text.hpp"

namespace loa::templates {

enum class SmsMode { kUnicode, kAscii, kAuto, kGsm7Strict };

// Config spelling: "unicode", "ascii", "auto", "gsm7_strict".
std::string_view to_string(SmsMode mode);
std::optional<SmsMode> parse_sms_mode(std::string_view name);

// Gateways cap concatenation far below the 255 parts of TS 23.040: 459 characters = 3 parts is
// the common market rule (vietnam-channels.md §2.6).
inline constexpr std::size_t kDefaultMaxSegments = 3;

struct Route {
  std::string name;
  Channel channel = Channel::kSms;
  SmsMode sms_mode = SmsMode::kAuto;               // sms only
  bool strip_minority_letters = false;             // sms, ascii mode only
  std::size_t max_segments = kDefaultMaxSegments;  // sms only
  std::int64_t price_vnd = 0;                      // per segment (sms) or per message (zalo)

  // What `units` (SMS segments, or Zalo messages) cost on this route.
  std::int64_t cost_vnd(std::size_t units) const {
    return price_vnd * static_cast<std::int64_t>(units);
  }
};

// One route per channel, named after it (the configuration's [routes.*] sections).
struct RouteTable {
  Route sms{"sms", Channel::kSms};
  Route zalo_zns{"zalo_zns", Channel::kZaloZns};
  Route zalo_oa{"zalo_oa", Channel::kZaloOa};

  const Route& for_channel(Channel channel) const;
};

// nfc(), with a fast path for text that is already NFC and made of ASCII, Vietnamese letters,
// GSM-7 characters and typographic punctuation (what nearly every message is).
TextResult<std::string> to_nfc(std::string_view utf8);

// The two spellings of an SMS text: exactly nfc() and transliterate_vi(), the common case
// computed in one pass without utf8proc.
struct SmsForms {
  std::string accented;  // NFC
  SegmentCount accented_count;
  std::string unaccented;  // transliterate_vi; lost characters appear as a fallback letter or '?'
  SegmentCount unaccented_count;
  std::vector<LostCharacter> lost;  // characters the unaccented form could not spell
};
TextResult<SmsForms> sms_forms(std::string_view utf8);

struct SmsDecision {
  std::string text;  // what goes to the gateway
  SegmentCount count;
  bool unaccented = false;              // `text` is the transliteration
  std::vector<LostCharacter> stripped;  // ascii + strip: minority letters that were mapped
  std::string reason;                   // why this form, for previews and reports
};

// Applies the route's mode and segment limit to a rendered text. Errors: kInvalidUtf8;
// kNotGsm7 (gsm7_strict); kWouldLoseCharacter (ascii); kTooManySegments, whose message says how
// many segments the text needs and how many the route allows.
TextResult<SmsDecision> encode_sms(std::string_view utf8, const Route& route);

}  // namespace loa::templates
