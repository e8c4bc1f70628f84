#include "templates/channel.hpp"

namespace loa::templates {

std::string_view to_string(Channel channel) {
  switch (channel) {
    case Channel::kSms:
      return "sms";
    case Channel::kZaloZns:
      return "zalo_zns";
    case Channel::kZaloOa:
      return "zalo_oa";
  }
  return "unknown";
}

std::optional<Channel> parse_channel(std::string_view name) {
  for (const Channel channel : kAllChannels) {
    if (to_string(channel) == name) return channel;
  }
  return std::nullopt;
}

}  // namespace loa::templates
