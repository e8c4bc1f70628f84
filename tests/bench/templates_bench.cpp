// Benchmarks for templates/ (issue [3/10]): render plus segment count, the planner's inner step,
// over 1,000,000 messages on one core. Target: at least 500,000 messages/s.
//
// Households differ by name, commune and category (a rotating set of 1,024 contexts built
// before timing, as the planner builds one per household); the template is the shipped
// `hoi_dap` SMS text (ops/examples/templates.toml), which uses the household's name, so each
// message is rendered and counted anew. items_per_second is messages per second.
//
//   bench_templates --benchmark_filter=RenderAndCount
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "templates/campaign_estimate.hpp"
#include "templates/language_fallback.hpp"
#include "templates/mustache.hpp"
#include "templates/rendered_message.hpp"
#include "templates/sms_route.hpp"
#include "templates/sms_text.hpp"
#include "templates/template_file.hpp"
#include "templates/variables.hpp"

namespace {

namespace tpl = loa::templates;

constexpr std::int64_t kMessages = 1'000'000;

const char* const kSmsText =
    "Kính gửi {{name}}: nếu có câu hỏi về chính sách giảm nghèo, xin nhắn đến số "
    "{{campaign.reply_number}} hoặc gọi {{campaign.hotline}} trong giờ hành chính. Cán bộ sẽ "
    "trả lời.";

std::vector<tpl::Value> make_contexts() {
  const char* const surnames[] = {"Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Y", "H'", "Rơ Lan"};
  const char* const given[] = {"Văn An",   "Thị Hoa",   "Đức Dũng", "Blin Niê",
                               "Ƀlơi Mlô", "Thị Hương", "Srêh",     "Ngọc Lan"};
  const char* const communes[] = {"Xã Ea Kao", "Xã Ia Lốp", "Phường Tân Lập", "Xã Ea Huar"};
  const char* const categories[] = {"poor", "near_poor", "escaped"};
  std::vector<tpl::Value> contexts;
  const tpl::CampaignVariables campaign = tpl::sample_campaign();
  for (int i = 0; i < 1024; ++i) {
    tpl::HouseholdVariables household;
    household.name = std::string(surnames[i % 8]) + " " + given[(i / 8) % 8];
    household.commune = communes[i % 4];
    household.category = categories[i % 3];
    household.language = i % 4 == 0 ? "rad" : "vi";
    auto context = tpl::make_context(household, campaign);
    if (context) contexts.push_back(std::move(context).value());
  }
  return contexts;
}

// Render plus segment count: the figure of the issue.
void BM_RenderAndCount(benchmark::State& state) {
  const auto compiled = tpl::Template::compile(kSmsText);
  if (!compiled) {
    state.SkipWithError("template does not compile");
    return;
  }
  const tpl::Template& tmpl = *compiled;
  const std::vector<tpl::Value> contexts = make_contexts();
  std::string out;
  std::size_t i = 0;
  std::size_t segments = 0;
  for (auto _ : state) {
    out.clear();
    tmpl.render_to(out, contexts[i++ & 1023]);
    const auto count = tpl::count_segments(out);
    segments += count ? count->segments : 0;
    benchmark::DoNotOptimize(segments);
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["segments_per_message"] =
      static_cast<double>(segments) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_RenderAndCount)->Iterations(kMessages);

// Render plus the route's auto policy (NFC, transliteration when it saves segments, count):
// what the planner does for an SMS on an `auto` route.
void BM_RenderAndEncodeAuto(benchmark::State& state) {
  const auto compiled = tpl::Template::compile(kSmsText);
  if (!compiled) {
    state.SkipWithError("template does not compile");
    return;
  }
  const tpl::Template& tmpl = *compiled;
  const std::vector<tpl::Value> contexts = make_contexts();
  const tpl::Route route{"sms", tpl::Channel::kSms, tpl::SmsMode::kAuto, false, 3, 800};
  std::string out;
  std::size_t i = 0;
  for (auto _ : state) {
    out.clear();
    tmpl.render_to(out, contexts[i++ & 1023]);
    auto decision = tpl::encode_sms(out, route);
    benchmark::DoNotOptimize(decision);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RenderAndEncodeAuto)->Iterations(kMessages / 10);

// The whole path of one message: language choice, render, clean, encode, price, estimate.
void BM_RenderMessageAndEstimate(benchmark::State& state) {
  const std::string toml =
      std::string("[templates.hoi_dap.sms]\nvi = \"") + kSmsText + "\"\nrad = \"\"\n";
  tpl::TemplateFile file = tpl::parse_template_file(toml, "bench.toml");
  if (file.templates.empty()) {
    state.SkipWithError("template file does not load");
    return;
  }
  const tpl::TemplateDef& definition = file.templates.front();
  const std::vector<tpl::Value> contexts = make_contexts();
  const tpl::FallbackChain chain;
  tpl::RouteTable routes;
  routes.sms.price_vnd = 800;
  tpl::EstimateBuilder estimate;
  std::size_t i = 0;
  for (auto _ : state) {
    const std::size_t k = i++ & 1023;
    const tpl::RenderedMessage message = tpl::render_message(
        definition, tpl::Channel::kSms, contexts[k], k % 4 == 0 ? "rad" : "vi", chain, routes);
    estimate.add(message);
  }
  benchmark::DoNotOptimize(estimate.result());
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RenderMessageAndEstimate)->Iterations(kMessages / 10);

// Counting alone, on a rendered Vietnamese SMS.
void BM_CountSegments(benchmark::State& state) {
  const std::string text =
      "Kính gửi Phạm Thị Hương: nếu có câu hỏi về chính sách giảm nghèo, xin nhắn đến số "
      "8000 hoặc gọi 0262 3 000 000 trong giờ hành chính. Cán bộ sẽ trả lời.";
  for (auto _ : state) {
    auto count = tpl::count_segments(text);
    benchmark::DoNotOptimize(count);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CountSegments)->Iterations(kMessages);

}  // namespace

BENCHMARK_MAIN();
