# ops/faults/lib/faults_kannel.sh: a real Kannel (Debian's bearerbox and smsbox, fakesmsc from
# kannel-extras as the SMS centre) on private loopback ports, for the fault scripts. Sourced
# after faults_common.sh, not run. Set up as tests/support/kannel_peer.cpp and
# reference/kannel-facts.md describe, with a file store so that bearerbox keeps the messages it
# has queued across a restart, and one fake link for MTs, received by a long-running fakesmsc
# whose log lines are stamped with the time they arrive (Kannel's own stamps have whole
# seconds only). Every process is started through faults_track, so faults_cleanup stops it.
#
#   faults_kannel_init DIR MO_URL   writes DIR/kannel.conf (ports free now) and sets the
#                                   FAULTS_KANNEL_* variables; MO_URL is smsbox's get-url
#   faults_kannel_start             bearerbox, then fakesmsc, then (once bearerbox has handed
#                                   fakesmsc what its store held) smsbox; returns when all three
#                                   are connected (faults_kannel_up)
#   faults_kannel_start_smsbox      smsbox alone, returns when it is connected
#   faults_kannel_stop_smsbox       SIGTERM smsbox, wait for its exit
#   faults_kannel_stop              SIGTERM smsbox, bearerbox and fakesmsc, wait for their exits
#   faults_kannel_up                true when sendsms answers, smsbox is connected to bearerbox
#                                   and fakesmsc to the fake-mt link
#   faults_kannel_received          how many MTs fakesmsc has logged so far
#
# The MT log (FAULTS_KANNEL_MT_LOG) has one line per fakesmsc log line:
#   <unix time, ms> <fakesmsc's line>, e.g. "1796... ... DEBUG: Got message 7: <8088 8490... ucs-2 ...>"

FAULTS_KANNEL_BEARERBOX=/usr/sbin/bearerbox
FAULTS_KANNEL_SMSBOX=/usr/sbin/smsbox
FAULTS_KANNEL_FAKESMSC=/usr/lib/kannel/test/fakesmsc
FAULTS_KANNEL_USER=loa
FAULTS_KANNEL_PASSWORD=loa-secret
FAULTS_KANNEL_ADMIN_PASSWORD=admin-secret

faults_kannel_init() {
  local dir=$1 mo_url=$2 binary
  for binary in "$FAULTS_KANNEL_BEARERBOX" "$FAULTS_KANNEL_SMSBOX" "$FAULTS_KANNEL_FAKESMSC"; do
    [ -x "$binary" ] || { echo "$FAULTS_NAME: no $binary (ops/install-deps installs kannel and kannel-extras)" >&2; exit 2; }
  done
  mkdir -p "$dir"
  FAULTS_KANNEL_DIR=$dir
  FAULTS_KANNEL_ADMIN_PORT=$(faults_free_port)
  FAULTS_KANNEL_BOX_PORT=$(faults_free_port)
  FAULTS_KANNEL_SENDSMS_PORT=$(faults_free_port)
  FAULTS_KANNEL_MT_PORT=$(faults_free_port)
  FAULTS_KANNEL_SENDSMS_URL="http://127.0.0.1:$FAULTS_KANNEL_SENDSMS_PORT/cgi-bin/sendsms"
  FAULTS_KANNEL_MT_LOG="$dir/fakesmsc-mt.log"
  : >"$FAULTS_KANNEL_MT_LOG"
  cat >"$dir/kannel.conf" <<CONF
group = core
admin-port = $FAULTS_KANNEL_ADMIN_PORT
admin-interface = 127.0.0.1
admin-password = $FAULTS_KANNEL_ADMIN_PASSWORD
admin-deny-ip = "*.*.*.*"
admin-allow-ip = "127.0.0.1"
smsbox-port = $FAULTS_KANNEL_BOX_PORT
smsbox-interface = 127.0.0.1
box-deny-ip = "*.*.*.*"
box-allow-ip = "127.0.0.1"
log-file = "$dir/bearerbox.log"
log-level = 1
access-log = "$dir/bearerbox-access.log"
store-type = file
store-location = "$dir/kannel.store"
dlr-storage = internal

group = smsc
smsc = fake
smsc-id = fake-mt
port = $FAULTS_KANNEL_MT_PORT
our-host = 127.0.0.1
connect-allow-ip = 127.0.0.1
throughput = 0

group = smsbox
bearerbox-host = 127.0.0.1
bearerbox-port = $FAULTS_KANNEL_BOX_PORT
sendsms-port = $FAULTS_KANNEL_SENDSMS_PORT
sendsms-interface = 127.0.0.1
mo-recode = yes
log-file = "$dir/smsbox.log"
log-level = 1

group = sendsms-user
username = $FAULTS_KANNEL_USER
password = $FAULTS_KANNEL_PASSWORD
user-allow-ip = 127.0.0.1
max-messages = 10
concatenation = true

group = sms-service
keyword = default
catch-all = true
get-url = "$mo_url"
max-messages = 0
omit-empty = true
CONF
}

faults_kannel_status() {
  curl -s --max-time 2 "http://127.0.0.1:$FAULTS_KANNEL_ADMIN_PORT/status.txt?password=$FAULTS_KANNEL_ADMIN_PASSWORD"
}

faults_kannel_up() {
  local status
  status=$(faults_kannel_status) || return 1
  # bearerbox's status page: the fake-mt link "(online Ns, ...)" and one smsbox under "Box
  # connections" ("smsbox:(none), IP 127.0.0.1 (on-line ...)").
  grep -q 'fake-mt.*online' <<<"$status" || return 1
  grep -q 'smsbox:.*on-line' <<<"$status" || return 1
  # sendsms answers (403 or 202 without credentials: anything but a refused connection)
  curl -s --max-time 2 -o /dev/null "$FAULTS_KANNEL_SENDSMS_URL" || return 1
}

# Waits up to 30 s for faults_kannel_up.
faults_kannel_wait_up() {
  local _
  for _ in $(seq 300); do
    faults_kannel_up && return 0
    sleep 0.1
  done
  faults_fail "Kannel did not come up within 30 s (see $FAULTS_KANNEL_DIR/*.log, *.stderr)"
}

faults_kannel_start_smsbox() {
  "$FAULTS_KANNEL_SMSBOX" -v 2 "$FAULTS_KANNEL_DIR/kannel.conf" >>"$FAULTS_KANNEL_DIR/smsbox.stderr" 2>&1 &
  FAULTS_KANNEL_SMSBOX_PID=$!
  faults_track "$FAULTS_KANNEL_SMSBOX_PID"
  faults_kannel_wait_up
}

faults_kannel_start() {
  "$FAULTS_KANNEL_BEARERBOX" -v 2 "$FAULTS_KANNEL_DIR/kannel.conf" >>"$FAULTS_KANNEL_DIR/bearerbox.stderr" 2>&1 &
  FAULTS_KANNEL_BEARERBOX_PID=$!
  faults_track "$FAULTS_KANNEL_BEARERBOX_PID"
  local _
  for _ in $(seq 200); do
    faults_kannel_status >/dev/null && break
    sleep 0.1
  done
  # fakesmsc logs each MT at debug level on stderr; the stamper adds the arrival time. With -m 0
  # it sends no MO; the one <msg> keeps it out of interactive mode (kannel-facts.md).
  "$FAULTS_KANNEL_FAKESMSC" -H 127.0.0.1 -r "$FAULTS_KANNEL_MT_PORT" -m 0 "0 0 text unused" \
    2> >(python3 -u -c '
import sys, time
out = open(sys.argv[1], "ab", buffering=0)
for line in sys.stdin.buffer:
    out.write(b"%.3f " % time.time() + line)
' "$FAULTS_KANNEL_MT_LOG") >/dev/null &
  FAULTS_KANNEL_FAKESMSC_PID=$!
  faults_track "$FAULTS_KANNEL_FAKESMSC_PID"
  # What bearerbox reloaded from its store goes to fakesmsc as soon as the link is up. Let it go
  # before smsbox starts, so that every MT after "Kannel back" is one loa sent after it
  # (status: "SMS: received N (M queued), sent N (0 queued), store size N" and the link's
  # "fake-mt[fake-mt] FAKE:port (online Ns, ..., queued 0 msgs)"). At most 10 s.
  local status
  for _ in $(seq 100); do
    status=$(faults_kannel_status || true)
    grep -q 'fake-mt.*online.*queued 0 msgs' <<<"$status" &&
      grep -Eq '^SMS: .*sent [0-9]+ \(0 queued\)' <<<"$status" && break
    sleep 0.1
  done
  faults_kannel_start_smsbox
}

# faults_kannel_stop_pid PID: SIGTERM, then waits up to 15 s for the exit (SIGKILL after).
faults_kannel_stop_pid() {
  local pid=$1 _
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 150); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    faults_info "pid $pid ignored SIGTERM for 15 s: SIGKILL"
    kill -KILL "$pid" 2>/dev/null
  fi
  wait "$pid" 2>/dev/null || true
}

faults_kannel_stop_smsbox() { faults_kannel_stop_pid "$FAULTS_KANNEL_SMSBOX_PID"; }

faults_kannel_stop() {
  # All at once, as an init system stopping the kannel service would.
  kill -TERM "$FAULTS_KANNEL_SMSBOX_PID" "$FAULTS_KANNEL_BEARERBOX_PID" 2>/dev/null || true
  faults_kannel_stop_pid "$FAULTS_KANNEL_SMSBOX_PID"
  faults_kannel_stop_pid "$FAULTS_KANNEL_BEARERBOX_PID"
  faults_kannel_stop_pid "$FAULTS_KANNEL_FAKESMSC_PID"
}

faults_kannel_received() { grep -c 'Got message ' "$FAULTS_KANNEL_MT_LOG" || true; }
