# ops/faults/lib/faults_common.sh: helpers shared by the fault scripts (ops/faults/redis,
# ops/faults/gateway). Sourced, not run. Every process started here is recorded and stopped by
# faults_cleanup (the caller's EXIT trap); everything lives in one temp dir ($FAULTS_TMP).
#
# Variables the caller sets before faults_init: FAULTS_NAME (script name, for messages),
# FAULTS_ROOT (the checkout), FAULTS_BUILD_DIR (a build dir with engine/loa),
# FAULTS_KEEP (1: keep the temp dir).

faults_say() { echo "== $*"; }
faults_info() { echo "   $*"; }

# Fails the script with a clear message and the tail of the daemon's log.
faults_fail() {
  echo "$FAULTS_NAME: FAIL: $*" >&2
  if [ -n "${FAULTS_LOA_LOG:-}" ] && [ -f "$FAULTS_LOA_LOG" ]; then
    echo "--- last lines of $FAULTS_LOA_LOG" >&2
    tail -n 25 "$FAULTS_LOA_LOG" >&2
  fi
  exit 1
}

faults_init() {
  FAULTS_LOA="$FAULTS_BUILD_DIR/engine/loa"
  [ -x "$FAULTS_LOA" ] || { echo "$FAULTS_NAME: no loa binary at $FAULTS_LOA (build first, or --build-dir)" >&2; exit 2; }
  command -v redis-server >/dev/null || { echo "$FAULTS_NAME: redis-server is missing (ops/install-deps)" >&2; exit 2; }
  command -v sqlite3 >/dev/null || { echo "$FAULTS_NAME: sqlite3 is missing (ops/install-deps)" >&2; exit 2; }
  FAULTS_GEN="${LOA_FIXTURES_DIR:-$FAULTS_ROOT/../shared/fixtures}/gen_households.py"  # as tests/support/test_dirs
  FAULTS_TMP=$(mktemp -d "/tmp/loa-$FAULTS_NAME.XXXXXX")
  FAULTS_PIDS=()
  trap faults_cleanup EXIT
  trap 'exit 130' INT TERM
}

# Stops what we started (by pid: SIGCONT first, in case a redis-server is stopped), then removes
# the temp dir.
faults_cleanup() {
  local rc=$?
  set +e
  local pid
  for pid in "${FAULTS_PIDS[@]}"; do
    kill -0 "$pid" 2>/dev/null || continue
    kill -CONT "$pid" 2>/dev/null
    kill -TERM "$pid" 2>/dev/null
  done
  for pid in "${FAULTS_PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done
  if [ "${FAULTS_KEEP:-0}" = 1 ] || [ "$rc" != 0 ]; then
    echo "   (temp dir kept: $FAULTS_TMP)" >&2
  else
    rm -rf "$FAULTS_TMP"
  fi
  exit "$rc"
}

faults_track() { FAULTS_PIDS+=("$1"); }

faults_free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# faults_redis_start DIR PERSIST: a redis-server in the foreground of a background job, on the
# unix socket DIR/redis.sock. PERSIST=aof: appendonly with everysec fsync (loa's spawn mode);
# none: nothing on disk. Sets FAULTS_REDIS_PID.
faults_redis_start() {
  local dir=$1 persist=$2 aof=no
  [ "$persist" = aof ] && aof=yes
  mkdir -p "$dir"
  redis-server --port 0 --unixsocket "$dir/redis.sock" --unixsocketperm 700 --dir "$dir" \
    --save "" --appendonly "$aof" --appendfsync everysec --logfile "$dir/redis.log" &
  FAULTS_REDIS_PID=$!
  faults_track "$FAULTS_REDIS_PID"
  for _ in $(seq 100); do
    # PONG, not LOADING: a restarted server answers only once its AOF is read
    [ "$(redis-cli -s "$dir/redis.sock" PING 2>/dev/null)" = PONG ] && return 0
    sleep 0.05
  done
  faults_fail "redis-server did not start in $dir (see $dir/redis.log)"
}

# faults_gateway_start DIR [HOLD]: the loopback gateway (faults_gateway.py), its port file and
# request log in DIR; HOLD: seconds a request waits in the timeout mode. Sets FAULTS_GW_PORT,
# FAULTS_GW_LOG, FAULTS_GW_PID.
faults_gateway_start() {
  local dir=$1 hold=${2:-5}
  mkdir -p "$dir"
  FAULTS_GW_LOG="$dir/gateway.log"
  python3 "$FAULTS_ROOT/ops/faults/lib/faults_gateway.py" --port-file "$dir/gateway.port" \
    --log "$FAULTS_GW_LOG" --hold "$hold" &
  FAULTS_GW_PID=$!
  faults_track "$FAULTS_GW_PID"
  for _ in $(seq 100); do [ -s "$dir/gateway.port" ] && break; sleep 0.05; done
  [ -s "$dir/gateway.port" ] || faults_fail "the loopback gateway did not start"
  FAULTS_GW_PORT=$(cat "$dir/gateway.port")
}
faults_gateway_mode() {
  curl -sf -X POST "http://127.0.0.1:$FAULTS_GW_PORT/_mode?m=$1" >/dev/null ||
    faults_fail "could not switch the gateway to $1"
}
# faults_gateway_stat KEY: a number from /_stats.
faults_gateway_stat() {
  curl -sf "http://127.0.0.1:$FAULTS_GW_PORT/_stats" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"
}

# faults_loa_start DATA_DIR CONFIG [PORT]: `loa serve` in the background, listening on PORT (a
# free port when none: a config that names loa's own URL, such as a dlr-url, picks it first).
# Sets FAULTS_LOA_PID, FAULTS_HTTP_PORT, FAULTS_LOA_LOG; exports LOA_DAEMON_DATA_DIR for the CLI
# calls.
faults_loa_start() {
  local data=$1 config=$2
  mkdir -p "$data"
  export LOA_DAEMON_DATA_DIR="$data"
  FAULTS_HTTP_PORT=${3:-$(faults_free_port)}
  export LOA_HTTP_LISTEN="127.0.0.1:$FAULTS_HTTP_PORT"
  FAULTS_LOA_LOG="$data/loa.log"
  "$FAULTS_LOA" serve --config "$config" >"$FAULTS_LOA_LOG" 2>&1 &
  FAULTS_LOA_PID=$!
  faults_track "$FAULTS_LOA_PID"
  for _ in $(seq 300); do
    faults_loa_check "during start-up"
    [ "$(faults_ready)" = ready ] && return 0
    sleep 0.2
  done
  faults_fail "loa did not become ready in 60 s"
}
faults_loa_alive() { kill -0 "$FAULTS_LOA_PID" 2>/dev/null; }
# faults_loa_check WHEN: fails, naming loa's exit status (128+N: signal N), if loa is gone.
faults_loa_check() {
  faults_loa_alive && return 0
  local rc=0
  wait "$FAULTS_LOA_PID" 2>/dev/null || rc=$?
  faults_fail "loa exited $1 (status $rc$( [ "$rc" -gt 128 ] && echo ", signal $((rc - 128))"))"
}
# ready | unready | down (no answer within 3 s: /readyz waits up to redis.command_timeout_ms)
faults_ready() {
  local body
  body=$(curl -s --max-time 3 "http://127.0.0.1:$FAULTS_HTTP_PORT/readyz" || true)
  case "$body" in
    *'"status":"ready"'*) echo ready ;;
    *'"status":"unready"'*) echo unready ;;
    *) echo down ;;
  esac
}
# Stops loa with SIGTERM and checks it exits 0 within 30 s.
faults_loa_stop() {
  kill -TERM "$FAULTS_LOA_PID" 2>/dev/null || faults_fail "loa (pid $FAULTS_LOA_PID) is gone before the stop"
  local rc=0
  for _ in $(seq 300); do kill -0 "$FAULTS_LOA_PID" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$FAULTS_LOA_PID" 2>/dev/null && faults_fail "loa did not stop within 30 s of SIGTERM"
  wait "$FAULTS_LOA_PID" || rc=$?
  [ "$rc" = 0 ] || faults_fail "loa exited $rc on SIGTERM"
}

# faults_watch_ready FILE: samples /readyz every 0.25 s into FILE ("<unix time> <state>") until
# killed. Sets FAULTS_WATCH_PID.
faults_watch_ready() {
  local file=$1
  ( while :; do echo "$(date +%s.%N) $(faults_ready)"; sleep 0.25; done >"$file" ) &
  FAULTS_WATCH_PID=$!
  faults_track "$FAULTS_WATCH_PID"
}

faults_sql() { sqlite3 -cmd '.timeout 5000' "$LOA_DAEMON_DATA_DIR/loa.db" "$1"; }

# faults_households N FILE: N synthetic households with valid, distinct phones.
faults_households() {
  # Checked here, not in faults_init: ops/faults/flood needs no households.
  [ -f "$FAULTS_GEN" ] || faults_fail "no household generator at $FAULTS_GEN"
  python3 "$FAULTS_GEN" --rows "$1" --clean --seed 10 >"$2"
}

# faults_campaign FILE NAME END_AT: a one-off SMS campaign to every household, no quiet hours (a
# fault run must not wait for the morning), ending at END_AT (Vietnam time, ISO 8601).
faults_campaign() {
  cat >"$1" <<TOML
[campaign]
name = "$2"
topic = "Kiểm thử sự cố"
template = "ho_tro_bhyt"
audience = "*"
channels = ["sms"]
priority = "bulk"
start_at = "2026-01-01T08:00:00+07:00"
end_at = "$3"
recurrence = "none"
quiet_hours = "00:00-00:00"

[campaign.variables]
hotline = "0262 3852 xxx"
reply_number = "8xxx"
sender = "SO LDTBXH DAK LAK"
TOML
}

# Vietnam time, ISO 8601, SECONDS from now.
faults_vn_time() { TZ=Asia/Ho_Chi_Minh date -d "@$(( $(date +%s) + $1 ))" +%Y-%m-%dT%H:%M:%S+07:00; }
