#!/usr/bin/env bash
# The device check-in benchmark (bench/README.md, "Check-in"), side by side with nginx:
#
#   aloftd  threads = 1, the embedded defaults (SQLite, local files), DEVICES enrolled devices,
#           its own generated certificate (ECDSA P-256), answering GET /api/v1/device/updates
#           for a device token (token check, device lookup, last-seen write, rollout decision)
#   nginx   Debian's nginx-light, one worker, access_log off, the same certificate, serving a
#           static file holding aloftd's own check-in answer (same bytes, same security
#           headers), and /healthz likewise
#
# Each server is pinned to CPU 1 and aloft-load to CPU 0 when there are two CPUs or more, so
# both servers get the same one core. aloft-load runs from CONNECTIONS keep-alive
# connections for DURATION seconds against each, over HTTPS (TLS 1.3) and plain HTTP, then
# a new TLS connection per request (full handshakes). One table; ratios; PASS/FAIL against
# the targets of issue 3. With wrk installed, wrk's figures for the same keep-alive runs
# follow (its latency is wrk's; the CPU figure is the same /proc reading).
#
# Usage: bench/run_checkin.sh        Environment: BUILD (default build), DEVICES (100000),
#   DURATION (10), CONNECTIONS (64), REPEAT (1: each run that many times, aloftd and nginx
#   alternating; the table shows each figure's median), ALOFT_BENCH_CACHE (the seeded fleet,
#   default $BUILD/bench-fleet), ALOFT_BENCH_STRICT=1 (exit 1 when a target is missed).
# Exits non-zero when a step fails or any run had errors (non-200 answers, transport failures).
set -euo pipefail
cd "$(dirname "$0")/.."

build=${BUILD:-build}
bin=$build/bin
devices=${DEVICES:-100000}
duration=${DURATION:-10}
connections=${CONNECTIONS:-64}
repeat=${REPEAT:-1}
[[ $repeat =~ ^[1-9][0-9]*$ ]] || { echo "run_checkin: REPEAT must be a positive integer" >&2; exit 1; }
cache=${ALOFT_BENCH_CACHE:-$build/bench-fleet}
for tool in aloftd aloft-load aloft-bench-seed; do
  if [[ ! -x $bin/$tool ]]; then
    echo "run_checkin: $bin/$tool not found; build it (make build)" >&2
    exit 1
  fi
done
nginx=$(command -v nginx || true)
[[ -n $nginx ]] || nginx=/usr/sbin/nginx
if [[ ! -x $nginx ]]; then
  echo "run_checkin: nginx not found: apt-get install -y nginx-light wrk (scripts/install-deps)" >&2
  exit 1
fi

# shellcheck source=bench/checkin/lib.sh
source bench/checkin/lib.sh
make_work aloft-checkin

server_cpu="" client_cpu=""
if (($(nproc) >= 2)); then server_cpu=1 client_cpu=0; fi
client=("$bin/aloft-load")
[[ -n $client_cpu ]] && client=(taskset -c "$client_cpu" "$bin/aloft-load")

make_fleet "$cache" "$devices"
fleet=$work/fleet
copy_fleet "$cache" "$fleet"
ca=$fleet/tls/ca.pem
"$bin/aloft-bench-seed" tokens --data-dir "$fleet/data" --devices "$devices" \
  --out "$work/tokens" > /dev/null
echo "certificate: $(openssl x509 -in "$fleet/tls/server.crt" -noout -text |
  grep -m1 -E 'Public Key Algorithm|NIST CURVE' | sed 's/^ *//') $(openssl x509 -in \
  "$fleet/tls/server.crt" -noout -text | grep -m1 'NIST CURVE' | sed 's/^ *//')"

# --- nginx: one worker, access_log off, the same certificate, HTTPS and HTTP listeners ------
nginx_tls=$(free_port)
nginx_http=$(free_port)
aloftd_port=$(free_port)
mkdir -p "$work/www/api/v1/device" "$work/nginx-tmp"

# aloftd's real answers (a check-in of device 0, and /healthz) become nginx's static files.
write_aloftd_config "$fleet" "$aloftd_port" 1 1 > "$work/aloftd-https.toml"
start_aloftd "$work/aloftd-https.toml" "$work/aloftd-https.log" "https://127.0.0.1:$aloftd_port" \
  "$server_cpu"
token0=$(head -n 1 "$work/tokens")
curl -sf --cacert "$ca" -D "$work/checkin.headers" -o "$work/www/api/v1/device/updates" \
  -H "Authorization: Bearer $token0" "https://127.0.0.1:$aloftd_port/api/v1/device/updates"
curl -sf --cacert "$ca" -o "$work/www/healthz" "https://127.0.0.1:$aloftd_port/healthz"
echo "check-in answer ($(wc -c < "$work/www/api/v1/device/updates") bytes): $(cat "$work/www/api/v1/device/updates")"
# The same security headers as aloftd's answer, so both send about the same bytes.
add_headers=$(tr -d '\r' < "$work/checkin.headers" | grep -iE \
  '^(strict-transport-security|content-security-policy|x-content-type-options|referrer-policy|x-frame-options|cache-control|permissions-policy|cross-origin-[a-z-]+):' |
  sed -E 's/^([^:]+): (.*)$/    add_header \1 "\2" always;/' | sed 's/\$/\\$/g')

cat > "$work/nginx.conf" <<CONF
# The baseline of bench/run_checkin.sh: one worker, no access log.
worker_processes 1;
user root;
pid $work/nginx.pid;
error_log $work/nginx-error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  types { }
  default_type application/json;
  keepalive_requests 100000000;
  keepalive_timeout 75s;
  client_body_temp_path $work/nginx-tmp/body;
  server {
    listen 127.0.0.1:$nginx_tls ssl;
    listen 127.0.0.1:$nginx_http;
    ssl_certificate $fleet/tls/server.crt;
    ssl_certificate_key $fleet/tls/server.key;
    ssl_protocols TLSv1.2 TLSv1.3;
    root $work/www;
$add_headers
  }
}
CONF
pin=()
[[ -n $server_cpu ]] && pin=(taskset -c "$server_cpu")
"${pin[@]}" "$nginx" -c "$work/nginx.conf" -g 'daemon off; master_process on;' &
nginx_master=$!
pids+=("$nginx_master")
for _ in $(seq 50); do
  curl -sf "http://127.0.0.1:$nginx_http/healthz" > /dev/null && break
  sleep 0.1
done
nginx_worker=$(pgrep -P "$nginx_master" | head -n 1)
[[ -n $nginx_worker ]] || { echo "nginx did not start: $(cat "$work/nginx-error.log")" >&2; exit 1; }
cmp -s <(curl -sf --cacert "$ca" -H "Authorization: Bearer $token0" \
  "https://127.0.0.1:$nginx_tls/api/v1/device/updates") "$work/www/api/v1/device/updates" ||
  { echo "nginx does not serve the check-in file" >&2; exit 1; }

# Each repetition's figures go to their own directory; table.py takes the medians.
out=$work/run1
# load NAME URL PIDS... [-- extra aloft-load flags]
load() {
  local name=$1 url=$2
  shift 2
  local flags=(--url "$url" --ca "$ca" --connections "$connections" --duration "$duration"
               --label "$name" --json "$out/$name.json")
  while (($# > 0)) && [[ $1 != -- ]]; do flags+=(--server-pid "$1"); shift; done
  (($# > 0)) && shift
  "${client[@]}" "${flags[@]}" "$@"
}

# --- keep-alive check-ins: aloftd then nginx, HTTPS then HTTP -------------------------------
checkin_path=/api/v1/device/updates
echo
for ((run = 1; run <= repeat; run++)); do
  out=$work/run$run
  mkdir -p "$out"
  load aloftd-https "https://127.0.0.1:$aloftd_port$checkin_path" "$aloftd_pid" -- --tokens "$work/tokens"
  load nginx-https "https://127.0.0.1:$nginx_tls$checkin_path" "$nginx_master" "$nginx_worker" -- \
    --tokens "$work/tokens"
  load aloftd-handshake "https://127.0.0.1:$aloftd_port/healthz" "$aloftd_pid" -- --mode handshake
  load nginx-handshake "https://127.0.0.1:$nginx_tls/healthz" "$nginx_master" "$nginx_worker" -- \
    --mode handshake
done
stop_pid "$aloftd_pid"

write_aloftd_config "$fleet" "$aloftd_port" 0 1 > "$work/aloftd-http.toml"
start_aloftd "$work/aloftd-http.toml" "$work/aloftd-http.log" "http://127.0.0.1:$aloftd_port" \
  "$server_cpu"
for ((run = 1; run <= repeat; run++)); do
  out=$work/run$run
  load aloftd-http "http://127.0.0.1:$aloftd_port$checkin_path" "$aloftd_pid" -- --tokens "$work/tokens"
  load nginx-http "http://127.0.0.1:$nginx_http$checkin_path" "$nginx_master" "$nginx_worker" -- \
    --tokens "$work/tokens"
done

# --- wrk, where it fits: keep-alive, plain HTTP, tokens in turn (bench/checkin/wrk_tokens.lua)
wrk_rows=()
if command -v wrk > /dev/null; then
  cpu_us() { python3 -c 'import os,sys
t=os.sysconf("SC_CLK_TCK"); s=0
for p in sys.argv[1:]:
    f=open(f"/proc/{p}/stat").read().rsplit(")",1)[1].split()
    s+=int(f[11])+int(f[12])
print(s*1000000//t)' "$@"; }
  wrk_run() {  # wrk_run NAME URL PIDS...
    local name=$1 url=$2
    shift 2
    local before after
    before=$(cpu_us "$@")
    ALOFT_TOKENS="$work/tokens" "${client[@]:0:${#client[@]}-1}" wrk -t1 -c"$connections" \
      -d"${duration}s" --latency -s bench/checkin/wrk_tokens.lua "$url" > "$work/$name.wrk"
    after=$(cpu_us "$@")
    python3 bench/checkin/table.py wrk "$work/$name.wrk" "$name" $((after - before)) \
      > "$out/$name.json"
  }
  for ((run = 1; run <= repeat; run++)); do
    out=$work/run$run
    wrk_run aloftd-http-wrk "http://127.0.0.1:$aloftd_port$checkin_path" "$aloftd_pid"
    wrk_run nginx-http-wrk "http://127.0.0.1:$nginx_http$checkin_path" "$nginx_master" "$nginx_worker"
  done
  wrk_rows=(aloftd-http-wrk nginx-http-wrk)
fi
stop_pid "$aloftd_pid"

medians=""
((repeat > 1)) && medians="; medians of $repeat runs each"
echo
echo "Machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(nproc) CPUs;" \
  "servers pinned to CPU ${server_cpu:-any}, aloft-load to CPU ${client_cpu:-any};" \
  "aloftd threads = 1, nginx worker_processes = 1; $devices devices; $connections connections, ${duration} s each${medians}"
status=0
python3 bench/checkin/table.py table "$work" "${wrk_rows[@]}" || status=$?
if ((status == 2)); then exit 1; fi
if ((status == 1)) && [[ ${ALOFT_BENCH_STRICT:-0} == 1 ]]; then exit 1; fi
exit 0
