// The template library: what the department says, keyed by topic, in every language and channel
// that it has been written for.
//
// What it is for: a template is a key ("ho_tro_bhyt") plus variants by (language, channel):
//   sms, zalo_oa   a Mustache text (mustache.hpp; no HTML escaping);
//   zalo_zns       an approved ZNS template_id plus a mapping from each ZNS parameter name to
//                  a Mustache text over household and campaign variables
//                  (vietnam-channels.md §1.1: `template_data` keys must match the approved
//                  template's parameter names exactly; names carry no diacritics or spaces).
// A variant with no text (sms, zalo_oa) or no template_id (zalo_zns) is a placeholder awaiting
// translation: it is kept, listed and reported, and households of that language fall back
// (language_fallback.hpp). We never invent translations into Ê Đê, M'nông or Jarai.
//
// Sources (TemplateSource) are plain data: what a file or the store holds. compile_template()
// turns one into a TemplateDef, reporting every problem as a TemplateIssue that names the
// template, language, channel, variable and position. Checks that need the variable schema,
// routes and sample households are in library_validation.hpp.
//
// Thread-safety: TemplateDef and TemplateLibrary are immutable once built; const use from any
// thread is safe.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "templates/channel.hpp"
#include "templates/mustache.hpp"

namespace loa::templates {

// ---- Sources -----------------------------------------------------------------------------------

// Where a piece of text was written, for error messages.
struct SourceLocation {
  std::string file;        // empty when not from a file
  std::size_t line = 0;    // 1-based line of the value in the file; 0 when unknown
  std::size_t column = 0;  // 1-based column (characters) of the text's first character
  // True when the text appears in the file exactly as parsed (no escape sequences), so a
  // position inside the text maps to a file position.
  bool maps_exactly = false;
};

struct ZnsParamSource {
  std::string name;           // the approved template's parameter name: [a-z0-9_], 1-64
  std::string value;          // Mustache text
  std::size_t max_chars = 0;  // 0: no limit of ours (Zalo's per-type limits apply at send)
  SourceLocation where;

  friend bool operator==(const ZnsParamSource& a, const ZnsParamSource& b) {
    return a.name == b.name && a.value == b.value && a.max_chars == b.max_chars;
  }
};

struct VariantSource {
  std::string language;  // "vi", "rad", "cmo", "jra", ... (is_language_code)
  Channel channel = Channel::kSms;
  std::string text;                        // sms, zalo_oa; "" awaits translation
  std::string zns_template_id;             // zalo_zns; "" awaits translation (or approval)
  std::vector<ZnsParamSource> zns_params;  // zalo_zns, sorted by name
  SourceLocation where;

  friend bool operator==(const VariantSource& a, const VariantSource& b) {
    return a.language == b.language && a.channel == b.channel && a.text == b.text &&
           a.zns_template_id == b.zns_template_id && a.zns_params == b.zns_params;
  }
};

struct TemplateSource {
  std::string key;  // [a-z0-9_], 1-64
  std::string topic;
  std::string description;
  std::vector<VariantSource> variants;
  SourceLocation where;

  // Same content (locations are not content).
  friend bool operator==(const TemplateSource& a, const TemplateSource& b) {
    return a.key == b.key && a.topic == b.topic && a.description == b.description &&
           a.variants == b.variants;
  }
};

// ---- Issues ------------------------------------------------------------------------------------

struct TemplateIssue {
  enum class Severity { kError, kWarning };
  enum class Kind {
    kSyntax,               // the file or a text cannot be read or compiled
    kUnknownVariable,      // a name outside the variable schema
    kTooLong,              // more segments than the route allows, or a ZNS parameter too long
    kRoute,                // the text cannot travel on the route (mode)
    kAwaitingTranslation,  // an empty variant: its households get the fallback language
    kNoDefaultLanguage,    // a channel without a usable variant in the default language
  };
  Severity severity = Severity::kError;
  Kind kind = Kind::kSyntax;
  std::string key;
  std::string language;            // empty when the issue is about the whole template
  std::optional<Channel> channel;  // likewise
  std::string variable;            // the variable or ZNS parameter concerned, if any
  SourceLocation where;            // the variant's (or template's) location
  std::size_t line = 0;            // position inside the variant's text; 0 when none
  std::size_t column = 0;
  std::string message;

  bool is_error() const { return severity == Severity::kError; }
  // "file:12:30: error: template 'k' (vi, sms): unknown variable 'nmae'", with the file
  // position when the text maps exactly; otherwise "file:12: ... (vi, sms) at 2:15: ...".
  std::string describe() const;
};

bool has_errors(const std::vector<TemplateIssue>& issues);

// ---- Compiled templates ------------------------------------------------------------------------

struct Variant {
  VariantSource source;
  Template text;                     // sms, zalo_oa
  std::vector<Template> zns_params;  // zalo_zns, parallel to source.zns_params

  const std::string& language() const { return source.language; }
  Channel channel() const { return source.channel; }
  bool awaiting_translation() const {
    return source.channel == Channel::kZaloZns ? source.zns_template_id.empty()
                                               : source.text.empty();
  }
};

class TemplateDef {
 public:
  const TemplateSource& source() const { return source_; }
  const std::string& key() const { return source_.key; }
  const std::vector<Variant>& variants() const { return variants_; }

  // The variant for exactly (language, channel), awaiting translation or not; nullptr if none.
  const Variant* find(std::string_view language, Channel channel) const;
  bool has_channel(Channel channel) const;

 private:
  friend std::optional<TemplateDef> compile_template(TemplateSource source,
                                                     std::vector<TemplateIssue>& issues);
  TemplateSource source_;
  std::vector<Variant> variants_;
};

// Compiles every variant: key and language syntax, duplicate variants, control characters
// (clean_text.hpp: rejected in sources), Mustache syntax, ZNS template id and parameter names.
// Appends each problem to `issues`; returns nothing if any is an error. Texts are NFC-normalised
// after they pass (positions in issues refer to the text as written).
std::optional<TemplateDef> compile_template(TemplateSource source,
                                            std::vector<TemplateIssue>& issues);

class TemplateLibrary {
 public:
  // Adds a template, replacing one with the same key.
  void add(TemplateDef definition);
  const TemplateDef* find(std::string_view key) const;
  const std::vector<TemplateDef>& templates() const { return templates_; }  // sorted by key
  bool empty() const { return templates_.empty(); }

 private:
  std::vector<TemplateDef> templates_;
};

// Template keys and ZNS parameter names: 1-64 of [a-z0-9_].
bool is_identifier(std::string_view name);
// A language code as households carry it: a 2-3 letter lower-case primary tag (ISO 639-1/-3:
// vi, rad, cmo, jra) with optional BCP-47 subtags ("vi-VN").
bool is_language_code(std::string_view code);

}  // namespace loa::templates
