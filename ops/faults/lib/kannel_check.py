#!/usr/bin/env python3
"""The verdict of ops/faults/kannel, from fakesmsc's log of the MTs it received.

Prints every figure, and one "PROBLEM ..." line per failed check:
  - each planned phone received exactly once (none twice, none lost), no unplanned phone;
  - the outbox agrees: every message `delivered` and exactly the phones fakesmsc received;
  - after each outage, the next MT arrived at most --resume-within seconds after Kannel was back.

Inputs:
  --mt-log    lines "<unix time> <fakesmsc log line>" (lib/faults_kannel.sh); an MT is
              "... Got message N: <SENDER RECEIVER TYPE PAYLOAD>", where TYPE is text, data,
              ucs-2, or udh (then PAYLOAD is "<url-encoded UDH> data <url-encoded bytes>")
  --outbox    "id|phone_e164|state|attempts|last_error" per planned message
  --outages   "k kind t_stop t_back mts_at_stop" per outage
  --loa-log   the daemon's log (optional): when its breaker opened, for each outage
"""
import argparse
import bisect
import collections
import datetime
import re
import sys
import urllib.parse

MT = re.compile(r"^(\d+(?:\.\d+)?) .*Got message \d+: <(.*)>$")

# 3GPP TS 23.040 9.2.3.24.1 (8-bit reference, IE 0x00) and 9.2.3.24.8 (16-bit, IE 0x08):
# the information elements of a concatenated SMS, ending in (total parts, this part).
CONCAT_IES = {0x00: 3, 0x08: 4}


def mask(phone):
    """As loa's logs mask phones (DESIGN.md 3.10): 8491***5678."""
    return phone[:4] + "***" + phone[-4:] if len(phone) > 8 else "***"


def part_number(udh_field):
    """This part's number (1-based) from a URL-encoded UDH, or 1 when it is not concatenated."""
    udh = urllib.parse.unquote_to_bytes(udh_field.replace("+", "%20"))
    i = 1  # udh[0] is the UDH length
    while i + 1 < len(udh):
        ie, length = udh[i], udh[i + 1]
        body = udh[i + 2:i + 2 + length]
        if CONCAT_IES.get(ie) == length and len(body) == length:
            return body[-1]
        i += 2 + length
    return 1


def read_mts(path):
    """(time, receiver) of every MT that begins a message: one per SMS, concatenated or not."""
    out = []
    with open(path, "rb") as f:
        for raw in f:
            m = MT.match(raw.decode("utf-8", "replace").rstrip("\r\n"))
            if not m:
                continue
            fields = m.group(2).split(" ", 4)
            if len(fields) < 3:
                continue
            receiver, kind = fields[1], fields[2]
            if kind == "udh" and len(fields) > 3 and part_number(fields[3]) != 1:
                continue
            out.append((float(m.group(1)), receiver))
    return out


def breaker_openings(path):
    """Unix times of the daemon's "circuit breaker open" lines (its log stamps are UTC)."""
    out = []
    for line in open(path, encoding="utf-8", errors="replace"):
        if "circuit breaker open" not in line:
            continue
        try:
            at = datetime.datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S.%f")
        except ValueError:
            continue
        out.append(at.replace(tzinfo=datetime.timezone.utc).timestamp())
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mt-log", required=True)
    ap.add_argument("--outbox", required=True)
    ap.add_argument("--outages", required=True)
    ap.add_argument("--households", type=int, required=True)
    ap.add_argument("--resume-within", type=float, default=5.0)
    ap.add_argument("--loa-log")
    a = ap.parse_args()
    problems = []

    mts = read_mts(a.mt_log)
    times = collections.defaultdict(list)
    for t, receiver in mts:
        times[receiver].append(t)
    outbox = {}  # phone without '+' -> (id, state, attempts, last_error)
    for line in open(a.outbox, encoding="utf-8"):
        p = line.rstrip("\n").split("|", 4)
        if len(p) == 5:
            outbox[p[1].lstrip("+")] = (p[0], p[2], p[3], p[4])

    # Exactly once per planned phone.
    twice = sorted(ph for ph in outbox if len(times.get(ph, [])) > 1)
    lost = sorted(ph for ph in outbox if not times.get(ph))
    unplanned = sorted(ph for ph in times if ph not in outbox)
    print("fakesmsc: %d MTs to %d phones; planned %d messages for %d households"
          % (len(mts), len(times), len(outbox), a.households))
    print("phones messaged twice: %d; lost: %d; not planned: %d" % (len(twice), len(lost), len(unplanned)))
    if len(outbox) != a.households:
        problems.append("the outbox planned %d messages, not %d" % (len(outbox), a.households))
    for ph in twice[:10]:
        mid, state, attempts, err = outbox[ph]
        gaps = ", ".join("+%.1f s" % (t - times[ph][0]) for t in times[ph][1:])
        print("  twice: message %s to %s, %d MTs (again at %s), attempts=%s, state %s%s"
              % (mid, mask(ph), len(times[ph]), gaps, attempts, state,
                 ", last error: " + err if err else ""))
    if twice:
        problems.append("%d phone(s) messaged twice (outbox ids %s)"
                        % (len(twice), " ".join(outbox[ph][0] for ph in twice[:10])))
    if lost:
        problems.append("%d planned phone(s) never messaged (outbox ids %s; states %s)"
                        % (len(lost), " ".join(outbox[ph][0] for ph in lost[:10]),
                           dict(collections.Counter(outbox[ph][1] for ph in lost))))
    if unplanned:
        problems.append("%d phone(s) messaged that were not planned, e.g. %s"
                        % (len(unplanned), [mask(ph) for ph in unplanned[:3]]))

    # The outbox's final states agree with what the handsets got.
    states = collections.Counter(v[1] for v in outbox.values())
    print("outbox: " + ", ".join("%s %d" % kv for kv in sorted(states.items())))
    attempts = collections.Counter(v[2] for v in outbox.values())
    print("outbox attempts: " + ", ".join("%s: %d" % kv for kv in sorted(attempts.items())))
    not_delivered = [ph for ph, v in outbox.items() if v[1] != "delivered"]
    if not_delivered:
        problems.append("%d message(s) not `delivered` in the outbox (the fake SMSC reports every MT "
                        "delivered): %s" % (len(not_delivered), dict(collections.Counter(
                            outbox[ph][1] for ph in not_delivered))))
    disagree = [ph for ph, v in outbox.items() if (v[1] == "delivered") != bool(times.get(ph))]
    if disagree:
        problems.append("%d message(s) where the outbox and fakesmsc disagree (delivered without an "
                        "MT, or an MT without delivered), e.g. ids %s"
                        % (len(disagree), " ".join(outbox[ph][0] for ph in disagree[:10])))

    # Sending resumes after each outage.
    stamps = sorted(t for t, _ in mts)
    opened = breaker_openings(a.loa_log) if a.loa_log else []
    for line in open(a.outages):
        k, kind, t_stop, t_back, at_stop = line.split()
        t_stop, t_back = float(t_stop), float(t_back)
        during = bisect.bisect_left(stamps, t_back) - bisect.bisect_left(stamps, t_stop)
        i = bisect.bisect_right(stamps, t_back)
        if i == len(stamps):
            print("outage %s (%s): down %.1f s after %s MTs; %d MTs during it; nothing received after Kannel was back"
                  % (k, kind, t_back - t_stop, at_stop, during))
            problems.append("outage %s (%s): no MT after Kannel was back" % (k, kind))
            continue
        resume = stamps[i] - t_back
        in5 = bisect.bisect_right(stamps, t_back + 5) - i
        first_open = [t for t in opened if t_stop <= t < stamps[i]]
        breaker = ("; breaker opened %.1f s into it" % (first_open[0] - t_stop)) if first_open else ""
        print("outage %s (%s): down %.1f s after %s MTs; %d MTs during it; next MT %.2f s after "
              "Kannel was back; %d MTs in the 5 s after%s"
              % (k, kind, t_back - t_stop, at_stop, during, resume, in5, breaker))
        if resume > a.resume_within:
            problems.append("outage %s (%s): sending resumed %.1f s after Kannel was back (limit %.0f s)"
                            % (k, kind, resume, a.resume_within))
    for p in problems:
        print("PROBLEM " + p)
    return 0


if __name__ == "__main__":
    sys.exit(main())
