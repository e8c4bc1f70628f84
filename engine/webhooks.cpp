#include "engine/webhooks.hpp"

#include "adapters/registry.hpp"
#include "adapters/settings_reader.hpp"
#include "adapters/webhook.hpp"
#include "adapters/zalo_webhook.hpp"
#include "engine/refusal_log.hpp"
#include "engine/receipt_relay.hpp"

namespace loa::engine {
namespace {

namespace http = boost::beast::http;

adapters::WebhookRequest to_webhook(const HttpRequest& r) {
  adapters::WebhookRequest w;
  w.method = std::string(r.method_string());
  w.target = std::string(r.target());
  w.content_type = std::string(r[http::field::content_type]);
  w.body = r.body();
  return w;
}

template <class Event>
HttpResponse answer(const adapters::WebhookResult<Event>& result, const std::string& path,
                    RefusalLog& refusals) {
  switch (result.verdict) {
    case adapters::WebhookVerdict::kEvent:
    case adapters::WebhookVerdict::kIgnored:
      if (!result.response_body.empty())
        return make_response(200, result.response_body,
                             result.response_type.empty() ? "text/plain" : result.response_type);
      return make_response(200, "{\"status\":\"ok\"}");
    case adapters::WebhookVerdict::kForbidden:
      refusals.refused(path, RefusalReason::kUnauthorized, result.reason);
      return make_response(401, "{\"error\":\"unauthorized\"}");
    case adapters::WebhookVerdict::kMalformed:
      refusals.refused(path, RefusalReason::kMalformed, result.reason);
      return make_response(400, "{\"error\":\"malformed\"}");
  }
  return make_response(500, "{}");
}

// Answers `acknowledged` once the relay has made `events` durable, or 503 when it could not
// (Redis down and the spool full or failing): the gateway retries, and nothing is lost.
void answer_when_durable(ReceiptRelay& relay, RefusalLog& refusals,
                         std::vector<campaigns::OutboxEvent> events, HttpResponse acknowledged,
                         HttpRespond respond, std::string path) {
  if (events.empty()) return respond(std::move(acknowledged));
  auto ack = std::make_shared<HttpResponse>(std::move(acknowledged));
  relay.accept(std::move(events), [ack, &refusals, respond = std::move(respond),
                                   path = std::move(path)](bool durable) {
    if (durable) return respond(std::move(*ack));
    refusals.refused(path, RefusalReason::kNotDurable, "Redis down and the spool full or failing");
    respond(make_response(503, "{\"error\":\"unavailable\"}"));
  });
}

}  // namespace

namespace {

// Zalo posts every OA event (replies, ZNS delivery) to one URL, signed with X-ZEvent-Signature.
// Served when the route names its OA secret key (oa_secret_key_env or _file).
std::vector<std::string> add_zalo_webhook(HttpServer& server, const std::string& route,
                                          const RouteGatewayConfig& gw, ReceiptRelay& sink) {
  adapters::GatewaySettings::Values values(gw.options.begin(), gw.options.end());
  adapters::GatewaySettings settings(values);
  std::optional<std::string> secret;
  try {
    secret = settings.optional_secret("oa_secret_key");
  } catch (const adapters::GatewayConfigError& e) {
    throw ConfigError("routes." + route + ".options." + e.key() + ": " + e.detail());
  }
  if (!secret) return {};
  adapters::GatewaySettingsMap map(gw.options.begin(), gw.options.end());
  map["oa_secret_key"] = *secret;
  std::shared_ptr<adapters::ZaloWebhook> webhook;
  try {
    webhook = std::make_shared<adapters::ZaloWebhook>(
        adapters::ZaloWebhookSettings::from(adapters::SettingsReader(map, route)));
  } catch (const std::invalid_argument& e) {
    throw ConfigError("routes." + route + ".options: " + e.what());
  }
  const std::string path = "/webhooks/" + route + "/zalo";
  RefusalLog& refusals = server.refusals();
  server.route(http::verb::post, path,
               [webhook, &sink, &refusals, path](const HttpRequest& r, HttpRespond respond) {
                 const std::string signature(r["X-ZEvent-Signature"]);
                 const std::string timestamp(r["timestamp"]);
                 const auto verdict =
                     webhook->verify({r.body(), signature, timestamp}, std::chrono::system_clock::now());
                 if (!verdict.ok) {
                   refusals.refused(path, RefusalReason::kUnauthorized, verdict.reason);
                   return respond(make_response(401, "{\"error\":\"unauthorized\"}"));
                 }
                 auto event = adapters::ZaloWebhook::parse(r.body());
                 if (!event.error.empty()) {
                   refusals.refused(path, RefusalReason::kMalformed, event.name + ": " + event.error);
                   return respond(make_response(400, "{\"error\":\"malformed\"}"));
                 }
                 std::vector<campaigns::OutboxEvent> events;
                 if (event.reply) events.push_back(sink.event_of(std::move(*event.reply)));
                 if (event.receipt) events.push_back(sink.event_of(std::move(*event.receipt)));
                 answer_when_durable(sink, refusals, std::move(events),
                                     make_response(200, "{\"status\":\"ok\"}"),
                                     std::move(respond), path);
               });
  return {path};
}

}  // namespace

std::vector<std::string> add_gateway_webhooks(HttpServer& server, const Config& config,
                                              const std::string& route, ReceiptRelay& sink) {
  const RouteGatewayConfig& gw = route_gateway(config, route);
  if (gw.type == "simulator") return {};
  if (gw.type == "zalo_zns" || gw.type == "zalo_oa") return add_zalo_webhook(server, route, gw, sink);
  adapters::GatewaySettings::Values values(gw.options.begin(), gw.options.end());
  adapters::WebhookHooks hooks;
  try {
    hooks = adapters::make_webhooks(gw.type, adapters::GatewaySettings(std::move(values)), route);
  } catch (const adapters::GatewayConfigError& e) {
    throw ConfigError("routes." + route + ".options." + e.key() + ": " + e.detail());
  }
  std::vector<std::string> paths;
  // GET and POST on /webhooks/<route>/<kind>: parse, make the event durable, answer.
  auto add = [&](const char* kind, auto hook) {
    if (!hook) return;
    const std::string path = "/webhooks/" + route + "/" + kind;
    RefusalLog& refusals = server.refusals();
    auto handler = [hook, &sink, path, &refusals](const HttpRequest& r, HttpRespond respond) {
      auto result = hook(to_webhook(r));
      std::vector<campaigns::OutboxEvent> events;
      if (result.event) events.push_back(sink.event_of(std::move(*result.event)));
      answer_when_durable(sink, refusals, std::move(events), answer(result, path, refusals),
                          std::move(respond), path);
    };
    server.route(http::verb::get, path, handler);
    server.route(http::verb::post, path, handler);
    paths.push_back(path);
  };
  add("receipt", hooks.receipt);
  add("reply", hooks.reply);
  return paths;
}

}  // namespace loa::engine
