// The channels a message can travel by. Each template variant is for one channel:
//   sms       plain text, billed per segment (sms_text.hpp);
//   zalo_zns  a Zalo Notification Service message: an approved template_id plus parameters
//             (vietnam-channels.md §1.1: ZNS takes no free text);
//   zalo_oa   free text from the Official Account to a follower (vietnam-channels.md §1.2).
//
// Thread-safety: constants and pure functions.
#pragma once

#include <array>
#include <optional>
#include <string_view>

namespace loa::templates {

enum class Channel { kSms, kZaloZns, kZaloOa };

inline constexpr std::array<Channel, 3> kAllChannels = {Channel::kSms, Channel::kZaloZns,
                                                        Channel::kZaloOa};

// "sms", "zalo_zns", "zalo_oa": the spelling in template files, config and the store.
std::string_view to_string(Channel channel);
std::optional<Channel> parse_channel(std::string_view name);

}  // namespace loa::templates
