#include "adapters/zalo_api.hpp"

#include <boost/asio/post.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <atomic>
#include <stdexcept>
#include <utility>

#include "adapters/http_client.hpp"
#include "adapters/zalo_json.hpp"
#include "adapters/zalo_token.hpp"

namespace loa::adapters {

namespace {

namespace asio = boost::asio;
namespace json = boost::json;

SendResult failure(SendClass c, std::string reason) { return {c, "", std::move(reason)}; }

SendResult classify_code(long long code, std::string_view said, const ZaloEndpoint& endpoint) {
  const std::string prefix = "zalo " + std::to_string(code) + ": ";
  if (zalo_json::contains_nocase(said, "quota")) {
    return failure(SendClass::kThrottled, prefix + std::string(said));
  }
  for (const ZaloErrorRule& rule : endpoint.errors) {
    if (rule.code == code) {
      return failure(rule.outcome, prefix + std::string(said.empty() ? rule.meaning : said));
    }
  }
  return failure(SendClass::kPermanent,
                 prefix + (said.empty() ? std::string("undocumented error") : std::string(said)));
}

}  // namespace

SendResult classify_zalo_answer(boost::system::error_code ec, const HttpResponse& response,
                                const ZaloEndpoint& endpoint, std::string_view access_token) {
  if (ec) {
    if (ec == HttpErrc::kBusy) return failure(SendClass::kThrottled, ec.message());
    if (ec == HttpErrc::kInvalidRequest) return failure(SendClass::kPermanent, ec.message());
    if (ec == HttpErrc::kNoAnswer) return failure(SendClass::kMaybeSent, ec.message());
    return failure(SendClass::kRetryable, ec.message());
  }
  const std::string http = "http " + std::to_string(response.status);
  if (response.status == 429) return failure(SendClass::kThrottled, http);
  if (response.status >= 500) return failure(SendClass::kRetryable, http);
  boost::system::error_code jec;
  const json::value doc = json::parse(response.body, jec);
  const auto code = jec ? std::nullopt : zalo_json::integer(zalo_json::member(&doc, "error"));
  if (!code) {
    if (response.status == 401 || response.status == 403) return failure(SendClass::kAuth, http);
    if (response.status >= 400) return failure(SendClass::kPermanent, http);
    return failure(SendClass::kRetryable, "zalo: unexpected answer (" + http + ")");
  }
  if (*code == 0) {
    const json::value* data = zalo_json::member(&doc, "data");
    return {SendClass::kAccepted,
            zalo_json::text(zalo_json::member(data, endpoint.id_field)).value_or(""), ""};
  }
  const std::string said =
      zalo_json::sanitize(zalo_json::first_text(doc, {"message"}), {access_token});
  return classify_code(*code, said, endpoint);
}

// One batch in flight: results filled by index, the last message to finish answers.
struct Batch {
  std::vector<OutboundMessage> messages;
  std::vector<SendResult> results;
  std::atomic<std::size_t> remaining{0};
  std::function<void(std::vector<SendResult>)> done;
};

struct ZaloGateway::State : std::enable_shared_from_this<State> {
  State(asio::any_io_executor e, std::shared_ptr<HttpClient> h, std::shared_ptr<ZaloTokens> t,
        ZaloEndpoint ep, Build b)
      : ex(std::move(e)),
        http(std::move(h)),
        tokens(std::move(t)),
        endpoint(std::move(ep)),
        build(std::move(b)) {}

  const asio::any_io_executor ex;
  const std::shared_ptr<HttpClient> http;
  const std::shared_ptr<ZaloTokens> tokens;
  const ZaloEndpoint endpoint;
  const Build build;
  std::atomic<bool> closed{false};

  void finish(const std::shared_ptr<Batch>& batch, std::size_t i, SendResult r) {
    batch->results[i] = std::move(r);
    if (batch->remaining.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      batch->done(std::move(batch->results));
    }
  }

  // Asks for the access token, then sends message i with it; `retried` after a kAuth answer.
  void send_one(std::shared_ptr<Batch> batch, std::size_t i, std::string body, bool retried) {
    tokens->async_access_token([self = shared_from_this(), batch, i, body = std::move(body),
                                retried](ZaloTokenResult token) mutable {
      if (!token.ok()) {
        self->finish(batch, i, failure(token.failure, std::move(token.reason)));
        return;
      }
      HttpRequest req;
      req.method = "POST";
      req.url = self->endpoint.url;
      req.headers = {{"Content-Type", "application/json"}, {"access_token", token.access_token}};
      req.body = body;
      req.timeout = self->endpoint.timeout;
      self->http->async_request(
          std::move(req),
          [self, batch, i, body = std::move(body), retried, used = std::move(token.access_token)](
              boost::system::error_code ec, HttpResponse res) mutable {
            SendResult r = classify_zalo_answer(ec, res, self->endpoint, used);
            if (r.outcome == SendClass::kAuth && !retried) {
              self->tokens->invalidate(std::move(used));
              self->send_one(batch, i, std::move(body), true);
              return;
            }
            self->finish(batch, i, std::move(r));
          });
    });
  }

  void start(std::shared_ptr<Batch> batch) {
    const std::size_t n = batch->messages.size();
    if (n == 0 || closed) {
      batch->done(std::vector<SendResult>(n, failure(SendClass::kRetryable, "closed")));
      return;
    }
    batch->results.resize(n);
    batch->remaining = n;
    for (std::size_t i = 0; i < n; ++i) {
      auto built = build(batch->messages[i]);
      if (auto* unsent = std::get_if<SendResult>(&built)) {
        finish(batch, i, std::move(*unsent));
      } else {
        send_one(batch, i, std::move(std::get<std::string>(built)), false);
      }
    }
  }
};

ZaloApiSettings ZaloApiSettings::from(const SettingsReader& s, std::string_view default_url) {
  ZaloApiSettings out;
  out.url = s.url("url", default_url);
  out.timeout = s.milliseconds("timeout_ms", out.timeout);
  return out;
}

ZaloGateway::ZaloGateway(asio::any_io_executor ex, std::shared_ptr<HttpClient> http,
                         std::shared_ptr<ZaloTokens> tokens, ZaloEndpoint endpoint, Build build) {
  if (!http || !tokens) throw std::invalid_argument("zalo gateway: http client and tokens needed");
  state_ = std::make_shared<State>(std::move(ex), std::move(http), std::move(tokens),
                                   std::move(endpoint), std::move(build));
}

ZaloGateway::~ZaloGateway() { close(); }

std::shared_ptr<ZaloTokens> ZaloGateway::open_tokens(asio::any_io_executor ex,
                                                     std::shared_ptr<HttpClient> http,
                                                     const GatewaySettingsMap& settings,
                                                     std::string_view gateway) {
  return ZaloTokens::open(std::move(ex), std::move(http),
                          ZaloTokenSettings::from(SettingsReader(settings, gateway)));
}

void ZaloGateway::async_send(std::vector<OutboundMessage> batch, SendDone done) {
  auto b = std::make_shared<Batch>();
  b->messages = std::move(batch);
  b->done = std::move(done);
  // Posted, so that `done` never runs inside async_send (adapters/gateway.hpp).
  asio::post(state_->ex,
             [self = state_, b = std::move(b)]() mutable { self->start(std::move(b)); });
}

void ZaloGateway::close() { state_->closed = true; }

}  // namespace loa::adapters
