# Shared by bench/run_checkin.sh, bench/checkin/load_suite.sh and ab_same_time.sh (sourced,
# not run): their temporary directory, a seeded aloftd fleet, aloftd started on it, and the
# processes to stop at exit.
# Needs: $bin (the build's bin directory with aloftd, aloft-load, aloft-bench-seed); $work
# (a private temporary directory) and the pids array, both set by make_work.

# make_work PREFIX: sets $work to a new private (0700) temporary directory and $pids to an
# empty list, and at exit stops the processes in $pids (start_aloftd adds to it) and removes
# $work (kept, and named, with ALOFT_BENCH_KEEP=1).
make_work() {
  work=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX")
  chmod 700 "$work"
  pids=()
  trap cleanup_work EXIT
}

cleanup_work() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [[ ${ALOFT_BENCH_KEEP:-0} == 1 ]]; then echo "kept $work"; else rm -rf "$work"; fi
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# make_fleet CACHE_DIR DEVICES: an initialised aloftd data directory with DEVICES enrolled
# devices and its TLS files (aloftd init --generate-tls: ECDSA P-256), kept in CACHE_DIR and
# reused by later runs (enrolling 100,000 devices takes a minute or two). Prints nothing.
make_fleet() {
  local cache=$1 devices=$2
  if [[ -f $cache/seeded-$devices ]]; then return 0; fi
  mkdir -p "$cache/tls"
  chmod 700 "$cache"
  cat > "$cache/init.toml" <<TOML
[server]
listen = "127.0.0.1:8443"
public_url = "https://127.0.0.1:8443"
[tls]
cert_file = "$cache/tls/server.crt"
key_file = "$cache/tls/server.key"
[storage]
data_dir = "$cache/data"
TOML
  if [[ ! -f $cache/tls/server.crt ]]; then
    "$bin/aloftd" -c "$cache/init.toml" init --generate-tls \
      --admin-password-file "$cache/admin-password" > "$cache/init.log"
  fi
  echo "seeding $devices devices into $cache (once; later runs reuse it)" >&2
  "$bin/aloft-bench-seed" enroll --data-dir "$cache/data" --devices "$devices" >&2
  touch "$cache/seeded-$devices"
}

# copy_fleet CACHE_DIR DEST: a private copy of the seeded data and TLS files, so a run's
# writes (last-seen times, reports) never reach the cache.
copy_fleet() {
  rm -rf "$2"
  mkdir -p "$2"
  chmod 700 "$2"
  cp -a "$1/data" "$1/tls" "$2/"
}

# write_aloftd_config FLEET PORT TLS(1|0) THREADS > FILE
# The per-client-address limit is raised: every simulated device connects from 127.0.0.1,
# which the default (50/s) would refuse by design. Per-device limits stay at their defaults.
# The access log is off (nginx's baseline runs with access_log off) unless ACCESS_LOG=1.
write_aloftd_config() {
  local fleet=$1 port=$2 tls=$3 threads=$4 scheme=https
  [[ $tls == 1 ]] || scheme=http
  cat <<TOML
[server]
listen = "127.0.0.1:$port"
public_url = "$scheme://127.0.0.1:$port"
threads = $threads
TOML
  [[ ${ACCESS_LOG:-0} == 1 ]] || echo "access_log = false"
  cat <<TOML
[storage]
data_dir = "$fleet/data"
[limits]
per_ip_requests_per_second = 1000000
per_ip_burst = 10000000
TOML
  if [[ $tls == 1 ]]; then
    cat <<TOML
[tls]
cert_file = "$fleet/tls/server.crt"
key_file = "$fleet/tls/server.key"
TOML
  fi
}

# start_aloftd CONFIG LOG URL [CPU] → sets aloftd_pid; waits for /readyz. ALOFTD names
# another aloftd binary (a before/after comparison).
start_aloftd() {
  local config=$1 log=$2 url=$3 cpu=${4:-}
  local pin=()
  [[ -n $cpu ]] && pin=(taskset -c "$cpu")
  "${pin[@]}" "${ALOFTD:-$bin/aloftd}" -c "$config" serve 2> "$log" &
  aloftd_pid=$!
  pids+=("$aloftd_pid")
  for _ in $(seq 150); do
    curl -sf --cacert "$fleet/tls/ca.pem" "$url/readyz" > /dev/null && return 0
    kill -0 "$aloftd_pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "aloftd did not become ready; its log:" >&2
  tail -n 20 "$log" >&2
  return 1
}

stop_pid() {  # stop_pid PID: SIGTERM (aloftd drains), then wait
  kill "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}
