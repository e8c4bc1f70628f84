#include "templates/rendered_message.hpp"

#include "templates/clean_text.hpp"

namespace loa::templates {
namespace {

// Code points in valid UTF-8 (ZNS parameter limits count characters).
std::size_t count_characters(std::string_view utf8) {
  std::size_t n = 0;
  for (const char c : utf8) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  }
  return n;
}

std::string describe_missing(const RenderIssue& issue) {
  std::string what = issue.kind == RenderIssueKind::kNotScalar ? " is not text" : " is empty";
  if (issue.kind == RenderIssueKind::kOutputTruncated) return "output truncated at the limit";
  return "variable '" + issue.name + "'" + what + " for this household (line " +
         std::to_string(issue.line) + ", column " + std::to_string(issue.column) + ")";
}

}  // namespace

TextResult<std::string> render_clean(const Template& text, const Value& context,
                                     std::vector<RenderIssue>* missing) {
  std::string rendered = text.render(context, missing);
  auto cleaned = clean_text(rendered);
  if (!cleaned) return cleaned.error();
  return std::move(cleaned->text);
}

RenderedMessage render_message(const TemplateDef& definition, Channel channel, const Value& context,
                               std::string_view language, const FallbackChain& chain,
                               const RouteTable& routes) {
  RenderedMessage message;
  message.channel = channel;
  const Route& route = routes.for_channel(channel);
  message.route = route.name;
  message.language = choose_variant(definition, channel, language, chain);
  const Variant* variant = message.language.variant;
  if (variant == nullptr) {
    std::string tried;
    for (const std::string& candidate : chain.candidates(language)) {
      tried += (tried.empty() ? "" : " → ") + candidate;
    }
    message.errors.push_back("template '" + definition.key() + "' has no " +
                             std::string(to_string(channel)) + " variant in " + tried);
    return message;
  }

  if (channel == Channel::kZaloZns) {
    message.zns_template_id = variant->source.zns_template_id;
    for (std::size_t k = 0; k < variant->zns_params.size(); ++k) {
      const ZnsParamSource& param = variant->source.zns_params[k];
      auto value = render_clean(variant->zns_params[k], context, &message.missing);
      if (!value) {
        message.errors.push_back("ZNS parameter '" + param.name + "': " + value.error().message);
        continue;
      }
      if (param.max_chars != 0 && count_characters(*value) > param.max_chars) {
        message.over_limit = true;
        message.errors.push_back("ZNS parameter '" + param.name + "' is " +
                                 std::to_string(count_characters(*value)) +
                                 " characters; its limit is " + std::to_string(param.max_chars));
      }
      message.zns_data.emplace_back(param.name, std::move(value).value());
    }
  } else {
    auto text = render_clean(variant->text, context, &message.missing);
    if (!text) {
      message.errors.push_back(text.error().message);
    } else if (channel == Channel::kSms) {
      auto decision = encode_sms(*text, route);
      if (!decision) {
        message.text = std::move(text).value();
        message.errors.push_back(decision.error().message);
        message.over_limit = decision.error().code == TextErrorCode::kTooManySegments;
      } else {
        message.text = decision->text;
        for (const LostCharacter& lost : decision->stripped) {
          message.warnings.push_back("'" + lost.character + "' (position " +
                                     std::to_string(lost.position) +
                                     ") stripped to an unaccented letter: meaning may change");
        }
        message.sms = std::move(decision).value();
      }
    } else {
      auto normalized = to_nfc(*text);
      if (normalized) {
        message.text = std::move(normalized).value();
      } else {
        message.errors.push_back(normalized.error().message);
      }
    }
  }
  for (const RenderIssue& issue : message.missing) {
    message.warnings.push_back(describe_missing(issue));
  }
  if (message.ok()) {
    message.units = message.sms ? message.sms->count.segments : 1;
    message.cost_vnd = route.cost_vnd(message.units);
  }
  return message;
}

}  // namespace loa::templates
