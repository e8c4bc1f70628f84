#!/usr/bin/env python3
"""A loopback SMS gateway for the fault scripts (ops/faults/redis, ops/faults/gateway).

loa's `http` adapter posts each message to /send?id={{id}}. The gateway answers according to
its mode, which the script switches at run time, and logs every request (time, id, outcome) so
that the script can prove what reached it:

  ok        200: accepted (an id accepted before is answered 200 again, as a gateway that
            honours idempotency keys would, and counted as a duplicate)
  flaky     like ok, except that ids divisible by 10 get 500 on their first 3 requests: the
            route keeps working (the breaker stays closed) and their retries show the backoff
  error     500 to everything
  timeout   holds every request for --hold seconds, then 503 (loa has given up by then)
  throttle  429 to everything

Control (loopback only): POST /_mode?m=MODE; GET /_stats answers
{"mode", "requests", "accepted", "duplicates"}. The log has one line per request:
"<unix time>\\t<id>\\t<outcome>" with outcome accepted | duplicate | flaky | error | timeout |
throttle.

    faults_gateway.py --port-file FILE --log FILE [--hold 5]

Python 3 standard library only; one thread per connection (loa keeps connections alive).
"""
import argparse
import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

MODES = ("ok", "flaky", "error", "timeout", "throttle")


class State:
    def __init__(self, log_path, hold):
        self.lock = threading.Lock()
        self.mode = "ok"
        self.requests = 0
        self.accepted = set()
        self.duplicates = 0
        self.attempts = {}
        self.hold = hold
        self.log = open(log_path, "a", buffering=1)

    def record(self, mid, outcome):
        self.log.write("%.6f\t%s\t%s\n" % (time.time(), mid, outcome))


def make_handler(state):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):  # quiet: the request log is ours
            pass

        def answer(self, status, body):
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            try:
                self.wfile.write(data)
            except OSError:  # loa gave up on a held request (the timeout mode)
                self.close_connection = True

        def do_GET(self):
            self.handle_any()

        def do_POST(self):
            self.handle_any()

        def handle_any(self):
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            url = urlsplit(self.path)
            query = parse_qs(url.query)
            if url.path == "/_mode":
                mode = query.get("m", [""])[0]
                if mode not in MODES:
                    return self.answer(400, {"error": "unknown mode %r" % mode})
                with state.lock:
                    state.mode = mode
                    state.record("-", "mode:" + mode)
                return self.answer(200, {"mode": mode})
            if url.path == "/_stats":
                with state.lock:
                    body = {"mode": state.mode, "requests": state.requests,
                            "accepted": len(state.accepted), "duplicates": state.duplicates}
                return self.answer(200, body)
            if url.path != "/send":
                return self.answer(404, {"error": "no such path"})
            mid = query.get("id", [""])[0]
            with state.lock:
                state.requests += 1
                mode = state.mode
                n = state.attempts.get(mid, 0) + 1
                state.attempts[mid] = n
                if mode == "flaky" and mid.isdigit() and int(mid) % 10 == 0 and n <= 3:
                    mode = "flaky-fail"
                outcome = {"error": "error", "timeout": "timeout", "throttle": "throttle",
                           "flaky-fail": "flaky"}.get(mode)
                if outcome is None:
                    outcome = "duplicate" if mid in state.accepted else "accepted"
                    if outcome == "duplicate":
                        state.duplicates += 1
                    state.accepted.add(mid)
                state.record(mid, outcome)
            if outcome in ("accepted", "duplicate"):
                return self.answer(200, {"code": 0, "id": "gw-" + mid})
            if outcome == "throttle":
                return self.answer(429, {"code": 429, "error": "too many requests"})
            if outcome == "timeout":
                time.sleep(state.hold)
                return self.answer(503, {"code": 503, "error": "late"})
            return self.answer(500, {"code": 500, "error": "internal error"})

    return Handler


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--port-file", required=True, help="the chosen port is written here")
    ap.add_argument("--log", required=True, help="request log, appended to")
    ap.add_argument("--hold", type=float, default=5.0, help="seconds a 'timeout' request waits")
    args = ap.parse_args()
    state = State(args.log, args.hold)
    class Server(ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 256  # loa opens a burst of connections at once

        def handle_error(self, request, client_address):
            pass  # a connection loa reset (a request it gave up on): nothing to report

    server = Server(("127.0.0.1", 0), make_handler(state))
    with open(args.port_file + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    os.replace(args.port_file + ".tmp", args.port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
