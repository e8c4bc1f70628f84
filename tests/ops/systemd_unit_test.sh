#!/usr/bin/env bash
# ops/systemd/loa.service is a valid unit, keeps its hardening, and systemd rates its exposure
# at or below 2.0 ("OK") — see ops/SECURITY.md. Usage: systemd_unit_test.sh UNIT LOA_BINARY
set -euo pipefail
unit=$1 loa=$2
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

for directive in DynamicUser=yes ProtectSystem=strict NoNewPrivileges=yes \
                 'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6' CapabilityBoundingSet= \
                 PrivateTmp=yes MemoryDenyWriteExecute=yes SystemCallFilter=@system-service; do
  grep -qxF "$directive" "$unit" || { echo "FAIL: $unit lacks '$directive'" >&2; exit 1; }
done

# verify needs the ExecStart binary to exist: point it at the one just built.
sed "s|/usr/local/bin/loa|$loa|" "$unit" > "$tmp/loa.service"
systemd-analyze verify "$tmp/loa.service"
systemd-analyze security --offline=yes --threshold=20 "$tmp/loa.service" > "$tmp/security.txt" \
  || { cat "$tmp/security.txt"; echo "FAIL: exposure above 2.0" >&2; exit 1; }
tail -1 "$tmp/security.txt"
