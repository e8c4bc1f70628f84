#include "adapters/request_fanout.hpp"

#include <boost/asio/post.hpp>

#include <stdexcept>
#include <utility>

namespace loa::adapters {

namespace {

namespace asio = boost::asio;

// One batch in flight, shared by its requests' completions.
struct Pending {
  std::vector<OutboundMessage> batch;
  std::vector<SendResult> results;
  RequestFanout::Classify classify;
  Gateway::SendDone done;
  std::atomic<std::size_t> remaining{0};

  // Each completion writes its own slot; the last one (by the counter's acq_rel ordering) sees
  // every slot written and answers.
  void complete(std::size_t index, boost::system::error_code ec, const HttpResponse& response) {
    if (ec) {
      results[index] = classify_transport(ec);
    } else {
      try {
        results[index] = classify(batch[index], response);
      } catch (const std::exception&) {  // a bug in the rules must not escape into the io_context
        results[index] = {SendClass::kRetryable, "", "answer not classified"};
      }
    }
    if (remaining.fetch_sub(1, std::memory_order_acq_rel) == 1) done(std::move(results));
  }
};

}  // namespace

SendResult classify_transport(boost::system::error_code ec) {
  SendResult r;
  r.reason = ec.message();
  if (ec == HttpErrc::kBusy) {
    r.outcome = SendClass::kThrottled;
  } else if (ec == HttpErrc::kInvalidRequest) {
    r.outcome = SendClass::kPermanent;
  } else if (ec == HttpErrc::kNoAnswer) {
    r.outcome = SendClass::kMaybeSent;
  } else {
    r.outcome = SendClass::kRetryable;
  }
  return r;
}

SendClass class_of_status(long status) {
  if (status >= 200 && status < 300) return SendClass::kAccepted;
  if (status == 429) return SendClass::kThrottled;
  if (status == 401 || status == 403) return SendClass::kAuth;
  if (status == 408 || (status >= 500 && status < 600)) return SendClass::kRetryable;
  return SendClass::kPermanent;
}

RequestFanout::RequestFanout(asio::any_io_executor executor, std::shared_ptr<HttpClient> http)
    : executor_(std::move(executor)), http_(std::move(http)) {
  if (!http_) throw std::invalid_argument("gateway adapter: no HttpClient");
}

void RequestFanout::send(std::vector<OutboundMessage> batch, const Prepare& prepare,
                         Classify classify, Gateway::SendDone done) {
  auto pending = std::make_shared<Pending>();
  pending->results.resize(batch.size());
  pending->classify = std::move(classify);
  pending->done = std::move(done);

  std::vector<std::pair<std::size_t, HttpRequest>> requests;
  if (closed_) {
    for (SendResult& r : pending->results) r = {SendClass::kRetryable, "", "closed"};
  } else {
    for (std::size_t i = 0; i < batch.size(); ++i) {
      Prepared p = prepare(batch[i]);
      if (auto* request = std::get_if<HttpRequest>(&p)) {
        requests.emplace_back(i, std::move(*request));
      } else {
        pending->results[i] = std::get<SendResult>(std::move(p));
      }
    }
  }
  pending->batch = std::move(batch);

  if (requests.empty()) {
    asio::post(executor_, [pending] { pending->done(std::move(pending->results)); });
    return;
  }
  pending->remaining = requests.size();
  for (auto& [index, request] : requests) {
    http_->async_request(
        std::move(request),
        [pending, index = index](boost::system::error_code ec, const HttpResponse& response) {
          pending->complete(index, ec, response);
        });
  }
}

}  // namespace loa::adapters
