#!/usr/bin/env bash
# The dashboard's browser end-to-end test (ctest: browser.dashboard, label integration).
# Starts the real daemon on the embedded defaults (spawned Redis, simulator gateway) with a low
# route rate, so the sample campaign runs for a while; creates a viewer token with
# `loa token create`; and drives headless Chromium through tests/browser/dashboard.e2e.mjs:
# log in, see the campaign's progress move, open the inbox, save screenshots.
#
#   tests/browser/run.sh LOA_BINARY ARTIFACT_DIR
# Needs tests/browser/node_modules (ops/test runs `npm ci` there) and Debian's chromium.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
loa=${1:?usage: run.sh LOA_BINARY ARTIFACT_DIR}
artifacts=${2:?usage: run.sh LOA_BINARY ARTIFACT_DIR}
root=$(cd "$here/../.." && pwd)
fixture=${LOA_FIXTURES_DIR:-$root/../shared/fixtures}/households-sample.csv

[ -d "$here/node_modules/playwright-core" ] ||
  { echo "run.sh: playwright-core is not installed: run (cd tests/browser && npm ci)" >&2; exit 1; }
command -v "${LOA_CHROMIUM:-chromium}" >/dev/null ||
  { echo "run.sh: no chromium (ops/install-deps installs Debian's)" >&2; exit 1; }
[ -f "$fixture" ] || { echo "run.sh: no household list at $fixture" >&2; exit 1; }

data=$(mktemp -d /tmp/loa-browser.XXXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export LOA_DAEMON_DATA_DIR="$data"
export LOA_HTTP_LISTEN="127.0.0.1:$port"
# Slowly enough that the browser sees the campaign running: 20 messages a second.
export LOA_ROUTES_SMS_RATE_PER_SECOND=20
export LOA_ROUTES_ZALO_ZNS_RATE_PER_SECOND=20
export LOA_ROUTES_SMS_SIMULATOR_RECEIPT_DELAY_MS=300
export LOA_ROUTES_ZALO_ZNS_SIMULATOR_RECEIPT_DELAY_MS=300
export LOA_ROUTES_SMS_SIMULATOR_REPLY_RATE=0.2
export LOA_ROUTES_ZALO_ZNS_SIMULATOR_REPLY_RATE=0.2

pid=""
cleanup() {
  set +e
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -INT "$pid"
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null
  fi
  cp "$data/loa.log" "$artifacts/loa.log" 2>/dev/null
  rm -rf "$data"
}
trap cleanup EXIT
mkdir -p "$artifacts"

"$loa" serve >"$data/loa.log" 2>&1 &
pid=$!
for _ in $(seq 150); do
  kill -0 "$pid" 2>/dev/null || { echo "run.sh: loa exited:" >&2; cat "$data/loa.log" >&2; exit 1; }
  curl -s --max-time 1 "http://127.0.0.1:$port/readyz" | grep -q '"status":"ready"' && break
  sleep 0.2
done

"$loa" contacts import "$fixture" >/dev/null
"$loa" templates load "$root/ops/examples/templates.toml" >/dev/null
# No quiet hours, whatever the time in Vietnam.
sed 's/^quiet_hours = .*/quiet_hours = "00:00-00:00"/' "$root/ops/examples/campaign.toml" >"$data/campaign.toml"
"$loa" campaign create "$data/campaign.toml" >/dev/null
"$loa" campaign launch --detach bhyt-2026 >/dev/null
token=$("$loa" token create --role viewer --name dashboard-e2e | tail -n 1)

LOA_URL="http://127.0.0.1:$port/" LOA_TOKEN="$token" LOA_ARTIFACTS="$artifacts" \
  node "$here/dashboard.e2e.mjs"

# Phones are masked in logs (ops/SECURITY.md): the daemon's log of this run, with its sends,
# receipts and replies, holds no full phone number.
if grep -nE '(\+?84|\b0)[35789][0-9]{8}\b' "$data/loa.log" | head -3 | grep . >&2; then
  echo "run.sh: loa's log holds an unmasked phone number (above)" >&2
  exit 1
fi
echo "run.sh: loa's log ($(wc -l <"$data/loa.log") lines) holds no unmasked phone number"
