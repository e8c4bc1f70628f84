# ops/faults/lib/common.sh: small helpers shared by the fault scripts (sourced, not run).
# A script sets `set -euo pipefail` and its own cleanup trap before using them.
#   fail MESSAGE...        print "<script>: MESSAGE" on stderr and exit 1 (the trap cleans up)
#   wait_for WHAT SECONDS COMMAND...   run COMMAND every 0.1 s until it succeeds, else fail
#   free_port              print a TCP port free on 127.0.0.1 now

fail() {
  echo "${0#"$PWD/"}: FAILED: $*" >&2
  exit 1
}

wait_for() {
  local what=$1 seconds=$2
  shift 2
  local tries=$((seconds * 10))
  while [ "$tries" -gt 0 ]; do
    "$@" >/dev/null 2>&1 && return 0
    tries=$((tries - 1))
    sleep 0.1
  done
  fail "$what not ready after $seconds s"
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
