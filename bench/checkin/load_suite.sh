#!/usr/bin/env bash
# The load suite (issue 8, point 6): DEVICES device identities (default 10,000) check in and
# post reports against a real aloftd (HTTPS, TLS 1.3, the embedded defaults) for DURATION
# seconds from CONNECTIONS keep-alive connections, through aloft-load. Each request carries
# the next device's token; REPORT_PERCENT of them (default 25) POST one new report.
# Quick by default; `make soak` runs it for 300 s with 100,000 devices.
#
# Ends with one line of figures:
#   load: devices: N, requests: N, errors: 0, p50/p99: X/Y ms (N req/s, N reports)
# Exit status 0 only with no errors (non-200 answers or transport failures) and aloftd still
# running at the end.
#
# Environment: BUILD or ALOFT_BIN_DIR (default build/bin), DEVICES, DURATION (default 5),
# CONNECTIONS (default 32), THREADS (aloftd's, default 2), REPORT_PERCENT,
# ALOFT_BENCH_CACHE (the seeded fleet, reused across runs; default <bin>/../bench-fleet).
set -euo pipefail
cd "$(dirname "$0")/../.."

bin=${ALOFT_BIN_DIR:-${BUILD:-build}/bin}
devices=${DEVICES:-10000}
duration=${DURATION:-5}
connections=${CONNECTIONS:-32}
threads=${THREADS:-2}
report_percent=${REPORT_PERCENT:-25}
export ACCESS_LOG=${ACCESS_LOG:-1}  # the access log on, as in production
cache=${ALOFT_BENCH_CACHE:-$bin/../bench-fleet}
for tool in aloftd aloft-load aloft-bench-seed; do
  [[ -x $bin/$tool ]] || { echo "load: $bin/$tool not found; build it first" >&2; exit 1; }
done

# shellcheck source=bench/checkin/lib.sh
source bench/checkin/lib.sh
make_work aloft-load

make_fleet "$cache" "$devices"
fleet=$work/fleet
copy_fleet "$cache" "$fleet"
"$bin/aloft-bench-seed" tokens --data-dir "$fleet/data" --devices "$devices" \
  --out "$work/tokens" > /dev/null
port=$(free_port)
write_aloftd_config "$fleet" "$port" 1 "$threads" > "$work/aloftd.toml"
start_aloftd "$work/aloftd.toml" "$work/aloftd.log" "https://127.0.0.1:$port"

"$bin/aloft-load" --url "https://127.0.0.1:$port/api/v1/device/updates" --ca "$fleet/tls/ca.pem" \
  --tokens "$work/tokens" --report-percent "$report_percent" --connections "$connections" \
  --duration "$duration" --server-pid "$aloftd_pid" --label "aloftd (load suite)" \
  --json "$work/load.json"

alive=1
kill -0 "$aloftd_pid" 2>/dev/null || alive=0
python3 - "$work/load.json" "$alive" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
print(f"load: devices: {r['devices']}, requests: {r['requests']}, errors: {r['errors']}, "
      f"p50/p99: {r['p50_ms']:.2f}/{r['p99_ms']:.2f} ms ({r['rps']:.0f} req/s, {r['reports']} reports)")
if sys.argv[2] != "1":
    print("load: FAIL: aloftd exited during the run")
    sys.exit(1)
if r["errors"] or r["requests"] == 0 or r["reports"] == 0:
    print("load: FAIL: errors, or no check-ins or reports went through")
    sys.exit(1)
EOF
