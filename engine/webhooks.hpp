// The daemon's webhook endpoints for gateways that call back (DESIGN.md 1): per route whose
// gateway has callbacks,
//   GET|POST /webhooks/<route>/receipt   delivery reports (e.g. Kannel's dlr-url)
//   GET|POST /webhooks/<route>/reply     household replies (e.g. Kannel's get-url, eSMS MO)
//   POST     /webhooks/<route>/zalo      every Zalo OA event (replies, ZNS delivery), signed with
//                                        X-ZEvent-Signature; served when the route names its
//                                        OA secret key (oa_secret_key_env or _file)
// The adapter's parser (adapters/registry.hpp WebhookHooks) authenticates and reads the
// request; an event goes to the route's results stream through its ReceiptRelay, and the
// request is answered 2xx only once the event is durable: in Redis, or while Redis is down in
// the route's fsynced spool (engine/event_spool.hpp); when neither takes it, 503, so that the
// gateway retries (issue [W2 1/9]: an opt-out must never be lost). Processing is asynchronous,
// in the store writer. A bad token
// or signature is answered 401 and nothing is stored, an unreadable callback (malformed JSON
// or form) 400, a body over http.body_limit_bytes 413 (by the server, before any parsing), an
// authentic one with nothing to record 200. Refusals (401, 400) go to the server's
// RefusalLog (engine/refusal_log.hpp): counted per route and reason, logged with the
// adapter's reason (never a phone or a secret) at a bounded rate, so a flood of forged
// callbacks cannot fill the disk. Tokens and signatures are compared in constant time
// (adapters/webhook.hpp secret_equals). Duplicates and receipts for unknown ids are accepted
// here and sorted out by the store side (campaigns/outbox_event.hpp).
//
// Contract: add_gateway_webhooks() registers the routes before the server starts; it throws
// ConfigError naming the route's option when the adapter's webhook settings are wrong.
//
// Thread-safety: the handlers run on the HTTP server's strands; the relay is thread-safe.
#pragma once

#include <string>

#include "adapters/gateway.hpp"
#include "engine/config.hpp"
#include "engine/http_server.hpp"

namespace loa::engine {

class ReceiptRelay;

// Returns the paths it registered (none for a gateway without callbacks, such as the simulator).
std::vector<std::string> add_gateway_webhooks(HttpServer& server, const Config& config,
                                              const std::string& route, ReceiptRelay& sink);

}  // namespace loa::engine
