#!/usr/bin/env bash
# The end-to-end demo (`make demo`) and its test (`make test` runs it with ALOFT_DEMO_CHECK=1):
# the real aloftd, aloftctl and aloft-agent on 127.0.0.1, in a temporary directory.
#
#   1. aloftd on the embedded defaults (SQLite, local files), TLS with a CA it generates
#   2. the first admin signs in and replaces the one-time password
#   3. an offline key ceremony: 2-of-3 root keys, 2-of-2 targets keys
#   4. releases v1, v2, v3 (v3 also as a delta from v2) signed by both targets key holders
#      and uploaded
#   5. three simulated devices (file slots, simulated bootloader) enroll and are accepted
#   6. v2 in two phases: the devices install, reboot, pass their health check and commit
#   7. v3, whose health check fails (devices on v2 install it by delta): the device rolls back
#      to v2 by itself, reports it, and the rollout pauses at its failure threshold before it
#      reaches the rest of the fleet
#   8. v3.0.1, the fix, released without a delta: aloftd builds the delta from v2 itself when
#      the deployment is created, and the devices install it by that delta
#   9. the fleet, the deployments and the verified audit trail
#
# Exit status 0 only if every step did what it says. Every process it starts is stopped.
set -euo pipefail

bin=${ALOFT_BIN_DIR:?ALOFT_BIN_DIR must point at build/bin}
check=${ALOFT_DEMO_CHECK:-0}
work=$(mktemp -d "${TMPDIR:-/tmp}/aloft-demo.XXXXXX")
chmod 700 "$work"
pids=()
stop_flag="$work/stop"

cleanup() {
  touch "$stop_flag"
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [[ ${ALOFT_DEMO_KEEP:-0} == 1 ]]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

if [[ -t 1 ]]; then bold=$'\e[1m'; green=$'\e[32m'; red=$'\e[31m'; dim=$'\e[2m'; off=$'\e[0m'
else bold=""; green=""; red=""; dim=""; off=""; fi
started=$SECONDS
step() { printf '\n%s==> %s%s\n' "$bold" "$*" "$off"; }
ok() { printf '    %s✓%s %s\n' "$green" "$off" "$*"; }
say() { printf '    %s\n' "$*"; }
fail() {
  printf '%sFAIL: %s%s\n' "$red" "$*" "$off"
  echo "--- aloftd log (last 30 lines)"; tail -n 30 "$work/server.log" 2>/dev/null || true
  for d in "$work"/dev-*; do
    [[ -d $d ]] || continue
    echo "--- $(basename "$d") log (last 15 lines)"; tail -n 15 "$d/agent.log" 2>/dev/null || true
  done
  exit 1
}
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
server="https://127.0.0.1:$port"
export ALOFT_SERVER=$server ALOFT_CA="$work/tls/ca.pem" ALOFT_CREDENTIALS="$work/operator/credentials.json"
ctl() { "$bin/aloftctl" --repo "$work/operator/repo" --passphrase-file "$work/operator/passphrase" "$@"; }

# ---------------------------------------------------------------------------------------------
step "1. aloftd: SQLite + local files, TLS with a generated CA, loopback only"
mkdir -p "$work/tls" "$work/operator"
chmod 700 "$work/operator"
cat > "$work/aloftd.toml" <<TOML
[server]
listen = "127.0.0.1:$port"
public_url = "$server"
[tls]
cert_file = "$work/tls/server.crt"
key_file = "$work/tls/server.key"
[storage]
data_dir = "$work/server"
TOML
# The web console, when it has been built (`make web`): aloftd serves it at the server's URL.
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
if [[ -f $repo/web/dist/index.html ]]; then
  printf '[console]\ndir = "%s"\n' "$repo/web/dist" >> "$work/aloftd.toml"
fi
"$bin/aloftd" -c "$work/aloftd.toml" init --generate-tls \
  --admin-password-file "$work/operator/admin-one-time-password" > "$work/init.log" \
  || fail "aloftd init: $(cat "$work/init.log")"
"$bin/aloftd" -c "$work/aloftd.toml" serve 2> "$work/server.log" &
pids+=($!)
for _ in $(seq 100); do
  curl -sf --cacert "$work/tls/ca.pem" "$server/readyz" > /dev/null && break
  sleep 0.1
done
curl -sf --cacert "$work/tls/ca.pem" "$server/readyz" > /dev/null || fail "aloftd did not become ready"
ok "aloftd serves $server (TLS, CA $work/tls/ca.pem)"
if [[ -f $repo/web/dist/index.html ]]; then
  say "web console: $server/ (its certificate is signed by the CA above)"
fi

# ---------------------------------------------------------------------------------------------
step "2. The first admin signs in and replaces the one-time password"
new_password=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
ALOFT_PASSWORD=$(cat "$work/operator/admin-one-time-password") ALOFT_NEW_PASSWORD="$new_password" \
  "$bin/aloftctl" login --username admin > "$work/login.log" 2>&1 || fail "login: $(cat "$work/login.log")"
ok "$(cat "$work/login.log")"

# ---------------------------------------------------------------------------------------------
step "3. Offline key ceremony: root 2-of-3, targets 2-of-2; the server holds only online keys"
head -c 24 /dev/urandom | base64 > "$work/operator/passphrase"
chmod 600 "$work/operator/passphrase"
ctl online-keys --output "$work/operator/online-keys.json" > /dev/null || fail "online-keys"
ctl keys init --root-keys 3 --root-threshold 2 --targets-keys 2 --targets-threshold 2 \
  --online-keys "$work/operator/online-keys.json" > "$work/keys.log" 2>&1 || fail "keys init: $(cat "$work/keys.log")"
ok "root v1 signed by 3 root keys (threshold 2); 2 targets keys (threshold 2)"
ctl repo upload-root > /dev/null || fail "repo upload-root"
ctl repo director-root --output "$work/operator/director-root.json" > /dev/null || fail "director-root"
ok "root uploaded; device trust anchors: metadata/1.root.json (Image) and director-root.json (Director)"

# ---------------------------------------------------------------------------------------------
step "4. Releases v1, v2 and v3 (v3 is bad: its health check will fail; it also ships as a delta from v2)"
make_image() {  # version health [base] → $work/images/os-<version>.img: a marker line, then
  # 1 MiB: random, or the body of version <base> (a point release: a delta from it is tiny)
  mkdir -p "$work/images"
  { printf 'aloft-demo-image version=%s health=%s\n' "$1" "$2"
    if [[ -n ${3:-} ]]; then tail -n +2 "$work/images/os-$3.img"; else head -c 1048576 /dev/urandom; fi
  } > "$work/images/os-$1.img"
}
make_image 1.0.0 ok
make_image 2.0.0 ok
make_image 3.0.0 fail 2.0.0
for v in 1.0.0 2.0.0 3.0.0; do
  delta=()
  [[ $v == 3.0.0 ]] && delta=(--delta-from 2.0.0)  # devices on v2 download a patch, not 1 MiB
  ctl release create "$work/images/os-$v.img" --name "os-$v.img.zst" --version "$v" \
    --hardware demo-board --security-counter 1 "${delta[@]}" > /dev/null 2>&1 || fail "release create $v"
done
targets_keys=("$work/operator/repo/keys"/targets-*.pem)
ctl release sign --key "${targets_keys[0]}" > /dev/null || fail "release sign (holder 1)"
say "holder 1 signed: $(ctl release status 2>/dev/null | grep -m1 targets || true)"
ctl release sign --key "${targets_keys[1]}" > /dev/null || fail "release sign (holder 2)"
ctl release upload > "$work/upload.log" 2>&1 || fail "release upload: $(cat "$work/upload.log")"
ok "both targets key holders signed; artifacts and targets uploaded"
ctl release list | sed 's/^/    /'

# ---------------------------------------------------------------------------------------------
step "5. Three devices enroll with a fleet token and are accepted"
enroll_token=$(ctl --json enroll-token create --uses 3 --valid-hours 1 | json 'd["token"]')
cat > "$work/health-check" <<'SH'
#!/bin/sh
# The demo image's own health check: the first line of the booted slot says whether it is good.
head -c 200 "$ALOFT_SLOT_PATH" | head -n 1 | grep -q 'health=ok'
SH
chmod 755 "$work/health-check"
for n in 1 2 3; do
  d="$work/dev-$n"
  mkdir -p "$d"
  chmod 700 "$d"
  cp "$work/images/os-1.0.0.img" "$d/slot-a.img"   # v1 comes installed from the factory
  : > "$d/slot-b.img"
  cat > "$d/agent.toml" <<TOML
server_url = "$server"
ca_file = "$work/tls/ca.pem"
device_id = "dev-$n"
hardware_id = "demo-board"
data_dir = "$d/data"
enrollment_token = "$enroll_token"
poll_interval_seconds = 10
poll_jitter_percent = 10
director_root = "$work/operator/director-root.json"
image_root = "$work/operator/repo/metadata/1.root.json"
tags = ["demo"]
[slots.a]
device = "$d/slot-a.img"
kind = "file"
[slots.b]
device = "$d/slot-b.img"
kind = "file"
[bootloader]
kind = "simulated"
env = "$d/bootloader.json"
[[health_checks]]
command = ["$work/health-check"]
timeout_seconds = 10
TOML
  "$bin/aloft-agent" -c "$d/agent.toml" enroll > "$d/enroll.log" 2>&1 || fail "dev-$n enroll: $(cat "$d/enroll.log")"
done
for n in 1 2 3; do ctl device accept "dev-$n" > /dev/null || fail "accept dev-$n"; done
ok "dev-1, dev-2, dev-3 accepted"

# Each device: the agent runs until it asks for a reboot (exit 75), then the simulated
# bootloader plays the power cycle (boot counter, fallback) and the agent starts again.
run_device() {
  local d=$1
  while [[ ! -e $stop_flag ]]; do
    set +e
    "$bin/aloft-agent" -c "$d/agent.toml" daemon >> "$d/agent.log" 2>&1
    local rc=$?
    set -e
    [[ -e $stop_flag ]] && break
    if [[ $rc == 75 ]]; then
      echo "--- simulated reboot" >> "$d/agent.log"
      "$bin/aloft-agent" -c "$d/agent.toml" simulate-reboot >> "$d/agent.log" 2>&1 || true
    else
      sleep 1
    fi
  done
}
for n in 1 2 3; do
  run_device "$work/dev-$n" &
  pids+=($!)
done

device_version() {  # n → the image version the device runs, from its own status
  "$bin/aloft-agent" -c "$work/dev-$1/agent.toml" status --json 2>/dev/null \
    | json 'd.get("imageVersion", "")' 2>/dev/null || true
}

wait_deployment() {  # id, python condition on d (the deployment JSON), timeout seconds, label
  local id=$1 cond=$2 timeout=$3 label=$4 last=""
  local deadline=$((SECONDS + timeout))
  while ((SECONDS < deadline)); do
    local body
    body=$(ctl --json deploy status "$id" 2>/dev/null) || { sleep 2; continue; }
    local line
    line=$(json '"phase %d/%d  %s  " % (d["current_phase"]+1, len(d["phases"]), d["state"]) + "  ".join("%s=%d" % (k, v) for k, v in d["counts"].items() if v)' <<<"$body")
    [[ $line != "$last" ]] && say "${dim}$line${off}" && last=$line
    if json "bool($cond)" <<<"$body" | grep -q True; then return 0; fi
    sleep 2
  done
  fail "$label: not reached within ${timeout}s"
}

# ---------------------------------------------------------------------------------------------
step "6. Deploy v2 in phases (34% then 100%), failure threshold 34%"
dep2=$(ctl --json deploy create os-2.0.0.img.zst --to-hardware demo-board --phases 34%,100% \
  --phase-wait 10s --failure-threshold 34 --deadline 90s | json 'd["id"]') || fail "deploy create v2"
ok "deployment $dep2 created; devices join as they check in"
wait_deployment "$dep2" 'd["counts"].get("succeeded",0) == 3' 150 "v2 on every device"
ok "all three devices rebooted into v2, passed their health check and committed"

# ---------------------------------------------------------------------------------------------
step "7. Deploy v3 (bad) in phases (34% then 100%), failure threshold 30%"
dep3=$(ctl --json deploy create os-3.0.0.img.zst --to-hardware demo-board --phases 34%,100% \
  --phase-wait 10s --failure-threshold 30 --deadline 90s | json 'd["id"]') || fail "deploy create v3"
ok "deployment $dep3 created"
wait_deployment "$dep3" 'd["state"] == "paused" and d["counts"].get("rolled_back",0) >= 1' 150 \
  "v3 rolled back and paused"
# Devices that had already started v3 when it paused carry on (and fail) before the summary.
wait_deployment "$dep3" 'sum(d["counts"].get(k,0) for k in ("pending","downloading","installing","rebooting")) == 0' \
  120 "devices that had started v3 settle"
reason=$(ctl --json deploy status "$dep3" | json 'd["paused_reason"]')
ok "a device failed its health check on v3, fell back to v2 and reported it"
ok "the rollout paused itself: $reason"

# ---------------------------------------------------------------------------------------------
step "8. v3.0.1 (the fix) released without a delta: aloftd builds one from v2 itself"
make_image 3.0.1 ok 2.0.0
ctl release create "$work/images/os-3.0.1.img" --name "os-3.0.1.img.zst" --version 3.0.1 \
  --hardware demo-board --security-counter 1 > /dev/null 2>&1 || fail "release create 3.0.1"
ctl release sign --key "${targets_keys[0]}" > /dev/null && ctl release sign --key "${targets_keys[1]}" > /dev/null \
  || fail "release sign 3.0.1"
ctl release upload > "$work/upload.log" 2>&1 || fail "release upload 3.0.1: $(cat "$work/upload.log")"
dep4=$(ctl --json deploy create os-3.0.1.img.zst --to-hardware demo-board --phases 34%,100% \
  --phase-wait 10s --failure-threshold 34 --deadline 90s | json 'd["id"]') || fail "deploy create 3.0.1"
ok "deployment $dep4 created; aloftd queued a delta from the image the devices run (v2)"
wait_deployment "$dep4" 'd["counts"].get("succeeded",0) == 3' 150 "v3.0.1 on every device"
ctl release deltas | sed 's/^/    /'
ok "all three devices rebooted into v3.0.1 and committed"

# ---------------------------------------------------------------------------------------------
step "9. The fleet, the deployments and the audit trail"
ctl device list | sed 's/^/    /'
ctl deploy list | sed 's/^/    /'
ctl audit verify > "$work/audit.log" 2>&1 || fail "audit chain: $(cat "$work/audit.log")"
ok "audit: $(head -n 1 "$work/audit.log")"

if [[ $check == 1 ]]; then
  step "Checks"
  for n in 1 2 3; do
    v=$(device_version "$n")
    [[ $v == 3.0.1 ]] || fail "dev-$n runs '$v', expected 3.0.1"
  done
  ok "every device runs v3.0.1 (v3 never stayed anywhere)"
  grep -q "installed version 3.0.0 by delta" "$work"/dev-*/agent.log \
    || fail "no device installed v3 by its delta from v2"
  ok "v3 reached the devices on v2 as a delta: $(grep -ho 'version 3.0.0 by delta ([^)]*)' "$work"/dev-*/agent.log | head -n 1 | sed 's/.*by delta/by delta/')"
  ctl --json release deltas | json '[x["state"] for x in d["deltas"] if x["release"] == "os-3.0.1.img.zst"]' \
    | grep -q ready || fail "aloftd built no delta for v3.0.1"
  grep -q "installed version 3.0.1 by delta" "$work"/dev-*/agent.log \
    || fail "no device installed v3.0.1 by the delta aloftd built"
  ctl --json release deltas | json '[x for x in d["deltas"] if x["release"] == "os-3.0.0.img.zst"]' \
    | grep -qx '\[\]' || fail "aloftd built a delta the offline keys had signed already"
  ok "v3.0.1 reached $(grep -l "installed version 3.0.1 by delta" "$work"/dev-*/agent.log | wc -l) device(s) by the delta aloftd built from v2"
  ctl --json deploy status "$dep2" | json 'd["counts"]["succeeded"]' | grep -qx 3 || fail "v2 counts"
  ctl --json deploy status "$dep3" | json 'd["state"]' | grep -qx paused || fail "v3 state"
  ctl --json deploy status "$dep3" | json 'd["counts"].get("succeeded",0)' | grep -qx 0 \
    || fail "v3 succeeded somewhere"
  ctl --json audit verify | json 'd["ok"]' | grep -qx True || fail "audit chain not ok"
  ok "deployments and audit chain as expected"

  step "Operations drill (the commands of docs/operations.md)"
  # The devices stop first: the drill then checks each effect from a clean state.
  touch "$stop_flag"
  pkill -TERM -f "$work/dev-[0-9]/agent.toml" 2>/dev/null || true
  sleep 1

  # Backup while aloftd serves, restore into a second aloftd, read the fleet from it.
  "$bin/aloftd" -c "$work/aloftd.toml" backup "$work/backup" > "$work/backup.log" \
    || fail "backup: $(cat "$work/backup.log")"
  restored="$work/restored"
  mkdir -p "$restored/blobs"
  chmod 700 "$restored"
  cp "$work/backup/aloft.db" "$restored/aloft.db"
  cp -a "$work/backup/blobs/." "$restored/blobs/"
  cp -a "$work/server/secrets" "$restored/secrets"      # secrets and KEK: their own backup
  cp -a "$work/server/kek" "$restored/kek"
  port2=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  sed -e "s|^listen = .*|listen = \"127.0.0.1:$port2\"|" \
      -e "s|^public_url = .*|public_url = \"https://127.0.0.1:$port2\"|" \
      -e "s|^data_dir = .*|data_dir = \"$restored\"|" "$work/aloftd.toml" > "$work/restored.toml"
  "$bin/aloftd" -c "$work/restored.toml" serve 2> "$work/restored.log" &
  restored_pid=$!
  pids+=("$restored_pid")
  for _ in $(seq 100); do
    curl -sf --cacert "$work/tls/ca.pem" "https://127.0.0.1:$port2/readyz" > /dev/null && break
    sleep 0.1
  done
  # The restored database holds the same accounts and tokens: the stored token works there.
  token=$(json 'd["servers"]["'"$server"'"]["token"]' < "$ALOFT_CREDENTIALS")
  devices_restored=$(ALOFT_TOKEN=$token ALOFT_SERVER="https://127.0.0.1:$port2" ctl --json device list | json 'len(d["devices"])')
  releases_restored=$(ALOFT_TOKEN=$token ALOFT_SERVER="https://127.0.0.1:$port2" ctl --json release list | json 'len(d["releases"])')
  # v1, v2, v3, v3's delta from v2 (a target of its own) and v3.0.1
  [[ $devices_restored == 3 && $releases_restored == 5 ]] \
    || fail "restored server has $devices_restored devices and $releases_restored releases"
  kill "$restored_pid"
  ok "backup restored into a second aloftd: 3 devices, 4 releases and a delta"

  # The kill switch.
  ctl deploy pause-all --reason "incident drill" > /dev/null || fail "pause-all"
  ctl --json deploy status "$dep4" | json 'd["state"]' | grep -qx paused || fail "pause-all left $dep4 running"
  ok "deploy pause-all paused every active deployment"

  # Revoke a release: the key holders sign targets without it.
  ctl release revoke os-3.0.0.img.zst > /dev/null || fail "release revoke"
  ctl release sign --key "${targets_keys[0]}" > /dev/null && ctl release sign --key "${targets_keys[1]}" > /dev/null \
    || fail "signing the revocation"
  ctl release upload > /dev/null || fail "uploading the revocation"
  ctl --json release list | json '[r["name"] for r in d["releases"]]' | grep -q "os-3.0.0" \
    && fail "v3 still listed after the revocation"
  ok "release v3 revoked (targets re-signed without it by both holders)"

  # Rotate aloftd's online keys: the server stages a pair, the root key holders sign a root
  # naming it (offline), and publishing that root switches the server to the new pair.
  old_ts=$(ctl --json online-keys | json 'd["timestamp"]["keyid"]')
  ctl online-keys --rotate --output "$work/operator/next-online-keys.json" > /dev/null \
    || fail "online-keys --rotate"
  root_keys=("$work/operator/repo/keys"/root-*.pem)
  ctl keys rotate --role online --online-keys "$work/operator/next-online-keys.json" \
    --key "${root_keys[0]}" --key "${root_keys[1]}" > "$work/rotate.log" 2>&1 \
    || fail "keys rotate --role online: $(cat "$work/rotate.log")"
  ctl repo upload-root > /dev/null || fail "uploading the root that names the new online keys"
  new_ts=$(ctl --json online-keys | json 'd["timestamp"]["keyid"]')
  staged_ts=$(json 'd["timestamp"]["keyid"]' < "$work/operator/next-online-keys.json")
  [[ $new_ts == "$staged_ts" && $new_ts != "$old_ts" ]] \
    || fail "aloftd signs with $new_ts, expected the staged key $staged_ts"
  "$bin/aloft-agent" -c "$work/dev-1/agent.toml" check > "$work/dev-1/rotated.log" 2>&1 \
    || fail "dev-1 after the online-key rotation: $(cat "$work/dev-1/rotated.log")"
  ok "online keys rotated: the new root names the staged pair, aloftd signs with it, dev-1 still checks in"

  # Revoke a device: its next request is refused.
  ctl device revoke dev-3 > /dev/null || fail "device revoke"
  set +e
  "$bin/aloft-agent" -c "$work/dev-3/agent.toml" check > "$work/dev-3/revoked.log" 2>&1
  rc=$?
  set -e
  [[ $rc == 5 ]] || fail "revoked dev-3's check exited $rc: $(cat "$work/dev-3/revoked.log")"
  ok "dev-3 revoked: refused at its next request ($(tail -n 1 "$work/dev-3/revoked.log"))"
  ctl --json audit verify | json 'd["ok"]' | grep -qx True || fail "audit chain after the drill"
  ok "audit chain still intact after the drill"
fi

printf '\n%sDemo complete in %ds: signed releases, a phased rollout, reboots into the new image, an automatic rollback, a self-pausing rollout and a delta the server built.%s\n' \
  "$bold" "$((SECONDS - started))" "$off"
