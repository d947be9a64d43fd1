#!/usr/bin/env bash
# Before/after comparison of two aloftd builds that runs them AT THE SAME TIME, so that the
# VM's speed, which drifts by 10-30% within minutes, moves both alike:
#
#   both aloftd (threads = 1) share CPU 1, each with its own copy of the seeded fleet; two
#   aloft-load processes share CPU 0, each driving one server from CONNECTIONS/2 keep-alive
#   connections (or new TLS connections with MODE=handshake) for DURATION seconds.
#
# Each round prints both servers' CPU µs per request and the ratio B/A; rounds alternate which
# build is started first (and so which fleet copy and port each gets). The last line is the
# median ratio. Contention on the shared core inflates the absolute figures; the ratio is
# what this measures. Sequential runs (bench/run_checkin.sh) give the absolute figures.
#
# Usage: bench/checkin/ab_same_time.sh BIN_DIR_A BIN_DIR_B
#   Each BIN_DIR holds aloftd (a git worktree's build/bin, say). Environment: TLS (1: HTTPS,
#   0: plain HTTP; default 1), MODE (keepalive or handshake), ROUNDS (4), DURATION (8),
#   CONNECTIONS (64), BUILD (the build whose aloft-load and aloft-bench-seed run, and whose
#   bench-fleet cache is used; default build). A BIN_DIR that also holds aloft-bench-seed
#   gets its device tokens from that one: needed when the two builds' token formats differ.
set -euo pipefail
cd "$(dirname "$0")/../.."

if (($# != 2)); then
  echo "usage: bench/checkin/ab_same_time.sh BIN_DIR_A BIN_DIR_B" >&2
  exit 2
fi
bin_a=$1 bin_b=$2
for b in "$bin_a" "$bin_b"; do
  [[ -x $b/aloftd ]] || { echo "ab_same_time: $b/aloftd not found" >&2; exit 1; }
done
build=${BUILD:-build}
bin=$build/bin
tls=${TLS:-1}
mode=${MODE:-keepalive}
rounds=${ROUNDS:-4}
duration=${DURATION:-8}
connections=${CONNECTIONS:-64}
devices=100000
cache=$build/bench-fleet
[[ $rounds =~ ^[1-9][0-9]*$ ]] || { echo "ab_same_time: ROUNDS must be a positive integer" >&2; exit 1; }
[[ $mode == keepalive || $mode == handshake ]] || { echo "ab_same_time: MODE is keepalive or handshake" >&2; exit 1; }

# shellcheck source=bench/checkin/lib.sh
source bench/checkin/lib.sh
make_work aloft-ab

make_fleet "$cache" "$devices"
for name in A B; do
  seed=$bin/aloft-bench-seed
  [[ $name == A && -x $bin_a/aloft-bench-seed ]] && seed=$bin_a/aloft-bench-seed
  [[ $name == B && -x $bin_b/aloft-bench-seed ]] && seed=$bin_b/aloft-bench-seed
  "$seed" tokens --data-dir "$cache/data" --devices "$devices" --out "$work/tokens-$name" \
    > /dev/null
done
scheme=https
[[ $tls == 1 ]] || scheme=http
path=/api/v1/device/updates
extra=()  # keep-alive runs: --tokens, each server's own file (in round)
[[ $mode == handshake ]] && { path=/healthz; extra=(--mode handshake); }
[[ $mode == handshake && $tls != 1 ]] && { echo "ab_same_time: MODE=handshake needs TLS=1" >&2; exit 1; }

# round FIRST SECOND: starts both servers (FIRST first), loads both at once, writes
# "cpu_a cpu_b" to $work/result, and stops both.
round() {
  local name dir port pid which loads=() load_args
  local -A server_port server_pid
  for name in "$@"; do
    dir=$work/$name
    copy_fleet "$cache" "$dir"
    fleet=$dir  # start_aloftd's readiness probe reads $fleet/tls/ca.pem
    port=$(free_port)
    write_aloftd_config "$dir" "$port" "$tls" 1 > "$dir/aloftd.toml"
    which=$bin_a
    [[ $name == B ]] && which=$bin_b
    ALOFTD=$which/aloftd start_aloftd "$dir/aloftd.toml" "$dir/aloftd.log" \
      "$scheme://127.0.0.1:$port" 1
    server_port[$name]=$port
    server_pid[$name]=$aloftd_pid
  done
  for name in "$@"; do
    load_args=("${extra[@]}")
    [[ $mode == keepalive ]] && load_args=(--tokens "$work/tokens-$name")
    taskset -c 0 "$bin/aloft-load" --url "$scheme://127.0.0.1:${server_port[$name]}$path" \
      --ca "$work/$name/tls/ca.pem" --connections $((connections / 2)) \
      --duration "$duration" --label "$name" --server-pid "${server_pid[$name]}" \
      "${load_args[@]}" --json "$work/$name.json" > "$work/$name.out" &
    loads+=($!)
  done
  wait "${loads[@]}"
  for name in "$@"; do
    kill "${server_pid[$name]}"
    wait "${server_pid[$name]}" 2>/dev/null || true
  done
  python3 - "$work/A.json" "$work/B.json" > "$work/result" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
for r in (a, b):
    if r["errors"]:
        sys.exit(f"ab_same_time: {r['label']} had {r['errors']} errors")
print(f"{a['cpu_us_per_request']:.2f} {b['cpu_us_per_request']:.2f}")
PY
}

echo "A: $bin_a/aloftd  B: $bin_b/aloftd  ($scheme, $mode, $rounds rounds of ${duration} s)"
ratios=()
for ((i = 1; i <= rounds; i++)); do
  if ((i % 2)); then order=(A B); else order=(B A); fi
  round "${order[@]}"
  read -r cpu_a cpu_b < "$work/result"
  ratio=$(python3 -c "print(f'{$cpu_b / $cpu_a:.3f}')")
  ratios+=("$ratio")
  echo "round $i (${order[0]} started first): CPU us/request A $cpu_a, B $cpu_b, B/A $ratio"
done
python3 -c "import statistics, sys; print(f'median B/A: {statistics.median(map(float, sys.argv[1:])):.3f}')" "${ratios[@]}"
