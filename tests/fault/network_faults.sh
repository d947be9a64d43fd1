#!/usr/bin/env bash
# Network faults between aloft-agent and aloftd (issue 8, point 2). The real programs on
# 127.0.0.1, with aloft-fault-proxy between the devices and the server: it drops, stalls,
# blackholes, throttles, corrupts and resets connections (TLS passes through it as opaque
# bytes, so damage surfaces as TLS and transfer failures, as on a real network).
#
# For each update (v1 → v2 → ... on every device):
#   faults on:  each device runs `aloft-agent check` (and `simulate-reboot` when asked) for a
#               few rounds. After every step: the exit status is a documented one (0, 1, 4, 75;
#               never 3, "refused", which would mean damaged bytes got as far as verification),
#               the slot the device runs holds a whole signed image, and the slot the bootloader
#               will start next holds the assigned image, byte for byte (never a half-written
#               slot). A failed step leaves the booted slot as it was.
#   faults off: every device completes the update: its status shows the new version, and the
#               booted slot's SHA-256 equals the signed image digest.
#
# On top of the random faults, the first large downloads (one per device, even after the
# faults stop) are cut 512 KiB before their end (past the agent's 4 MiB on-disk checkpoint), so
# resuming is always exercised: the server must answer at least one Range request with 206.
#
# Figures: `faulty transfers: N, corrupt installs: 0` (N = connections on which a fault fired),
# with the completed updates, the ones that needed more than one attempt, and the downloads
# resumed with a Range request (the server's 206 answers: within one attempt, or from the
# agent's spool on disk in the next).
#
# Quick mode (make test): 2 devices, 1 update, 4 faulty rounds each. ALOFT_FAULT_SOAK=1 (make
# soak): 4 devices, 4 updates, 10 rounds. ALOFT_FAULT_SEED replays a run's faults (the seed is
# printed): connection N always gets the same fault; with several devices the order in which
# their connections arrive may differ, ALOFT_FAULT_DEVICES=1 replays exactly. ALOFT_FAULT_
# DEVICES, _UPDATES, _ROUNDS override the sizes.
set -euo pipefail

bin=${ALOFT_BIN_DIR:?ALOFT_BIN_DIR must point at build/bin}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [[ ${ALOFT_FAULT_SOAK:-0} == 1 ]]; then
  devices=${ALOFT_FAULT_DEVICES:-4} updates=${ALOFT_FAULT_UPDATES:-4} rounds=${ALOFT_FAULT_ROUNDS:-10}
else
  devices=${ALOFT_FAULT_DEVICES:-2} updates=${ALOFT_FAULT_UPDATES:-1} rounds=${ALOFT_FAULT_ROUNDS:-4}
fi
seed=${ALOFT_FAULT_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
image_bytes=$((5 * 1024 * 1024))  # above the 4 MiB download checkpoint: resumable from disk

work=$(mktemp -d "${TMPDIR:-/tmp}/aloft-fault-net.XXXXXX")
chmod 700 "$work"
server_pid="" proxy_pid=""
cleanup() {
  [[ -n $proxy_pid ]] && kill "$proxy_pid" 2>/dev/null && wait "$proxy_pid" 2>/dev/null || true
  [[ -n $server_pid ]] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true
  if [[ ${ALOFT_FAULT_KEEP:-0} == 1 ]]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
fail() {
  exec 1>&2
  echo "FAIL: $* (seed $seed)"
  echo "--- aloftd log (last 20 lines)"; tail -n 20 "$work/server.log" 2>/dev/null || true
  for d in "$work"/dev-*; do
    [[ -d $d ]] || continue
    echo "--- $(basename "$d") (last 15 lines)"; tail -n 15 "$d/agent.log" 2>/dev/null || true
  done
  exit 1
}
# shellcheck source=lib.sh
source "$here/lib.sh"
started=$SECONDS
echo "network faults: seed $seed, $devices devices, $updates updates, $rounds faulty rounds"

# --- the server, and the proxy in front of it: devices know only the proxy's address --------
port=$(free_port)
mkdir -p "$work/proxy"
touch "$work/proxy/off"  # set-up traffic passes clean
"$bin/aloft-fault-proxy" --target "$port" --seed "$seed" --rate 0.6 --off-file "$work/proxy/off" \
  --cut-large $((image_bytes - 512 * 1024)) --cut-large-count "$devices" \
  --port-file "$work/proxy/port" --log "$work/proxy/connections.log" > "$work/proxy/out.log" 2>&1 &
proxy_pid=$!
for _ in $(seq 100); do [[ -s $work/proxy/port ]] && break; sleep 0.05; done
[[ -s $work/proxy/port ]] || fail "the proxy did not start: $(cat "$work/proxy/out.log")"
proxy_url="https://127.0.0.1:$(cat "$work/proxy/port")"
# The devices' audience is the proxy's origin, so the server's public URL is the proxy's.
fault_access_log=true
fault_setup_server "$port" "$proxy_url"

versions=()
for ((u = 1; u <= updates + 1; u++)); do
  versions+=("$u.0.0")
  fault_make_image "$u.0.0" "$image_bytes"
done
fault_release "${versions[@]}"
declare -A image_sha
for v in "${versions[@]}"; do image_sha[$v]=$(sha256_of "$work/images/os-$v.img"); done
image_len=$(stat -c %s "$work/images/os-1.0.0.img")

token=$(ctl --json enroll-token create --uses "$devices" --valid-hours 1 | json 'd["token"]')
names=()
# dev-1 gives a download up at its first interruption, so a cut fails its install attempt,
# which must then be retried (resuming from the spool) on a later check: a failed attempt may
# not end the deployment for the device. The others resume within the attempt.
for ((n = 1; n <= devices; n++)); do
  fault_enroll_device "dev-$n" "$proxy_url" "$token" <<TOML
[download]
retries = $((n == 1 ? 0 : 3))
retry_initial_seconds = 1
retry_max_seconds = 2
progress_interval_seconds = 1
TOML
  names+=("dev-$n")
done
echo "set up in $((SECONDS - started))s: aloftd, proxy $proxy_url, ${#names[@]} devices on v1"

# --- invariants -----------------------------------------------------------------------------
# check_slots DEV EXPECTED_NEW: the booted slot holds a whole signed image (one of ours); if
# the bootloader will start another slot next, or runs a trial, that slot holds EXPECTED_NEW.
# Prints the booted slot.
check_slots() {
  local d="$work/$1" want=$2
  local booted next upgrade
  read -r booted next upgrade < <(python3 -c '
import json,sys; s=json.load(open(sys.argv[1])); e=s["env"]
print(s["booted"], e.get("boot_part", s["booted"]), e.get("upgrade_available", "0"))' \
    "$d/bootloader.json" 2>/dev/null || echo "? ? ?")
  [[ $booted == a || $booted == b ]] || fail "$1: unreadable bootloader state"
  local booted_sha
  booted_sha=$(sha256_prefix "$d/slot-$booted.img" "$image_len")
  local ok=0 v
  for v in "${versions[@]}"; do [[ $booted_sha == "${image_sha[$v]}" ]] && ok=1; done
  [[ $ok == 1 ]] || { echo corrupt >> "$work/corrupt"; fail "$1 runs slot $booted, which holds no signed image"; }
  if [[ $next != "$booted" || $upgrade == 1 ]]; then
    [[ $(sha256_prefix "$d/slot-$next.img" "$image_len") == "${image_sha[$want]}" ]] || {
      echo corrupt >> "$work/corrupt"
      fail "$1: the bootloader points at slot $next, which does not hold $want"
    }
  fi
  echo "$booted"
}

# step DEV EXPECTED_NEW: one `check` (plus the simulated reboot it may ask for), with the
# invariants after each program. Appends the exit statuses to $work/DEV/statuses.
step() {
  local name=$1 want=$2 d="$work/$1" before after rc
  before=$(check_slots "$name" "$want")
  set +e
  timeout 180 "$bin/aloft-agent" -c "$d/agent.toml" check >> "$d/agent.log" 2>&1
  rc=$?
  set -e
  echo "check $rc" >> "$d/statuses"
  case $rc in
    0 | 1 | 4 | 75) ;;
    *) fail "$name: check exited $rc (documented outcomes under faults: 0, 1, 4, 75)" ;;
  esac
  after=$(check_slots "$name" "$want")
  [[ $rc == 0 || $after == "$before" ]] || fail "$name: a failed check (exit $rc) changed the booted slot"
  if [[ $rc == 75 ]]; then
    "$bin/aloft-agent" -c "$d/agent.toml" simulate-reboot >> "$d/agent.log" 2>&1 \
      || fail "$name: simulate-reboot"
    echo "reboot 0" >> "$d/statuses"
    check_slots "$name" "$want" > /dev/null
  fi
}

device_version() {
  "$bin/aloft-agent" -c "$work/$1/agent.toml" status --json 2>/dev/null | json 'd.get("imageVersion","") + " " + d.get("updateState","") + " " + d.get("imageSha256","")'
}

# Runs one device through an update: faulty rounds, then clean ones until it completes.
run_device() {
  local name=$1 want=$2 d="$work/$1" r
  for ((r = 0; r < rounds; r++)); do
    [[ -e $work/proxy/off ]] && break
    step "$name" "$want"
  done
  # Wait for the faults to stop (the driver switches them off once every device had its rounds).
  while [[ ! -e $work/proxy/off ]]; do sleep 0.2; done
  for ((r = 0; r < 12; r++)); do
    local version state sha
    read -r version state sha <<<"$(device_version "$name")"
    if [[ $version == "$want" && ($state == idle || $state == committed) ]]; then
      echo "done" >> "$d/statuses"
      return 0
    fi
    step "$name" "$want"
  done
  fail "$name did not complete $want within 12 clean checks (last: $(device_version "$name"))"
}

completed=0 retried=0 install_failures=0
for ((u = 2; u <= updates + 1; u++)); do
  want="$u.0.0"
  dep=$(ctl --json deploy create "os-$want.img.zst" --to-hardware fault-board --phases 100% \
    --failure-threshold 100 | json 'd["id"]') || fail "deploy create $want"
  for name in "${names[@]}"; do : > "$work/$name/statuses"; done
  rm -f "$work/proxy/off"
  pids=()
  for name in "${names[@]}"; do
    run_device "$name" "$want" &
    pids+=($!)
  done
  # Faults stay on until every device has had its faulty rounds (or completed).
  while :; do
    busy=0
    for name in "${names[@]}"; do
      s=$(grep -c '^check' "$work/$name/statuses" || true)
      grep -q '^done' "$work/$name/statuses" || ((s >= rounds)) || busy=1
    done
    ((busy == 0)) && break
    for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null || busy=2; done
    ((busy == 2)) && break
    sleep 0.3
  done
  touch "$work/proxy/off"
  for p in "${pids[@]}"; do wait "$p" || fail "a device did not complete $want"; done
  for name in "${names[@]}"; do
    d="$work/$name"
    read -r version state sha <<<"$(device_version "$name")"
    [[ $version == "$want" && ($state == idle || $state == committed) ]] || fail "$name: status says $version/$state"
    [[ $sha == "${image_sha[$want]}" ]] || fail "$name: status digest $sha is not the signed $want"
    booted=$(check_slots "$name" "$want")
    [[ $(sha256_prefix "$d/slot-$booted.img" "$image_len") == "${image_sha[$want]}" ]] \
      || fail "$name: booted slot $booted does not hash to the signed $want digest"
    completed=$((completed + 1))
    failures=$(grep -c '^check [14]' "$d/statuses" || true)
    install_failures=$((install_failures + $(grep -c '^check 4' "$d/statuses" || true)))
    ((failures > 0)) && retried=$((retried + 1))
    echo "$name: $want verified ($(grep -c '^check' "$d/statuses") checks, $failures failed cleanly)"
  done
  ctl deploy status "$dep" > /dev/null 2>&1 || true
done

# aloftd stops cleanly (under ASan its leak check runs now), and no program reported a bug.
kill "$server_pid"
wait "$server_pid" 2>/dev/null || true
server_pid=""
fault_no_sanitizer_reports "$work/server.log" "$work"/dev-*/agent.log "$work"/dev-*/enroll.log

# The proxy's totals: connections on which a fault fired.
kill "$proxy_pid"
wait "$proxy_pid" 2>/dev/null || true
proxy_pid=""
faulty=$(grep -c 'fired=1' "$work/proxy/connections.log" || true)
connections=$(wc -l < "$work/proxy/connections.log")
kinds=$(grep -o 'fault=[a-z]* .*fired=1' "$work/proxy/connections.log" | cut -d' ' -f1 | sort | uniq -c \
  | awk '{printf "%s%s=%d", (NR>1?" ":""), substr($2,7), $1}')
corrupt=0
[[ -f $work/corrupt ]] && corrupt=$(wc -l < "$work/corrupt")
# Downloads resumed with a Range request (in the agent's retry loop or from its spool on disk):
# the server's 206 answers for artifacts.
ranged=$(grep '"event":"request"' "$work/server.log" | grep '"status":206' | grep -c 'targets' || true)
((faulty > 0)) || fail "no fault fired on $connections connections"
((ranged > 0)) || fail "no download resumed with a Range request after its connection was cut"
fault_no_sanitizer_reports "$work/proxy/out.log"
echo "proxy: $connections connections, faults fired: $kinds"
echo "faulty transfers: $faulty, corrupt installs: $corrupt (updates completed: $completed, after failed attempts: $retried, failed install attempts retried: $install_failures, downloads resumed with Range: $ranged; seed $seed, $((SECONDS - started))s)"
