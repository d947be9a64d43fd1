#!/usr/bin/env bash
# The real aloftd and aloft-agent binaries on 127.0.0.1: init, a fleet token, a device that
# enrolls (pending), an operator decision from another aloftd process on the same database,
# and the device seeing it. This is also the regression test for a lost-lock bug: a second
# process opening and closing the database used to make the running server read stale data.
set -euo pipefail
bin=${ALOFT_BIN_DIR:?ALOFT_BIN_DIR must point at build/bin}
work=$(mktemp -d)
server_pid=""
cleanup() {
  if [[ -n $server_pid ]]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; echo "--- server log"; cat "$work/server.log" || true; exit 1; }

# A free port on loopback.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat > "$work/aloftd.toml" <<TOML
[server]
listen = "127.0.0.1:$port"
public_url = "http://127.0.0.1:$port"
[storage]
data_dir = "$work/server"
TOML

"$bin/aloftd" -c "$work/aloftd.toml" init > /dev/null
token=$("$bin/aloftd" -c "$work/aloftd.toml" enroll-token --uses 2 --valid-hours 1)
"$bin/aloftd" -c "$work/aloftd.toml" serve 2> "$work/server.log" &
server_pid=$!
for _ in $(seq 50); do
  curl -sf "http://127.0.0.1:$port/readyz" > /dev/null && break
  sleep 0.1
done

cat > "$work/agent.toml" <<TOML
server_url = "http://127.0.0.1:$port"
allow_insecure_loopback = true
device_id = "dev-1"
hardware_id = "rpi4"
data_dir = "$work/device"
enrollment_token = "$token"
[slots.a]
device = "$work/slot-a.img"
kind = "file"
[slots.b]
device = "$work/slot-b.img"
kind = "file"
[bootloader]
kind = "simulated"
env = "$work/boot.json"
TOML
agent() { "$bin/aloft-agent" -c "$work/agent.toml" "$@"; }

agent enroll | grep -q ': pending$' || fail "first enrollment should be pending"
"$bin/aloftd" -c "$work/aloftd.toml" devices | grep -q '^dev-1 .* pending' || fail "devices list"
"$bin/aloftd" -c "$work/aloftd.toml" device accept dev-1
agent enroll | grep -q ': accepted$' || fail "the server did not see the operator's decision"
[[ $(stat -c %a "$work/device") == 700 ]] || fail "data dir must be 0700"
[[ $(stat -c %a "$work/device/device.key") == 600 ]] || fail "device key must be 0600"
agent status --json | grep -q '"bootedSlot": "a"' || fail "status"
"$bin/aloftd" -c "$work/aloftd.toml" device decommission dev-1
if agent enroll > /dev/null 2>&1; then fail "a decommissioned device must be refused"; fi
echo "enrollment e2e: 7 checks passed"
