# shellcheck shell=bash disable=SC2154  # bin and work come from the sourcing script
# Shared steps of the fault suites (sourced by network_faults.sh and server_crash.sh): a real
# aloftd with TLS from a generated CA, the first admin, an offline key ceremony, signed releases
# and enrolled simulated devices (file slots, simulated bootloader), as tests/e2e/fleet_demo.sh
# stands them up. The caller sets: bin (the build's bin/), work (a private temporary directory)
# and defines fail(); it sources this file after that.

json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
ctl() { "$bin/aloftctl" --repo "$work/operator/repo" --passphrase-file "$work/operator/passphrase" "$@"; }
sha256_of() { sha256sum "$1" | cut -d' ' -f1; }
# The SHA-256 of the first N bytes of a file (a slot may be longer than the image in it).
sha256_prefix() { head -c "$2" "$1" | sha256sum | cut -d' ' -f1; }

# fault_write_server_config PORT PUBLIC_URL DATA_DIR: $work/aloftd.toml. The rate limits are
# raised: the suites hammer one server from a few devices on purpose. The access log (one JSON
# line per request in $work/server.log) is on when fault_access_log=true.
fault_write_server_config() {
  cat > "$work/aloftd.toml" <<TOML
[server]
listen = "127.0.0.1:$1"
public_url = "$2"
access_log = ${fault_access_log:-false}
shutdown_drain_seconds = 1
[tls]
cert_file = "$work/tls/server.crt"
key_file = "$work/tls/server.key"
[storage]
data_dir = "$3"
[limits]
per_ip_requests_per_second = 10000
per_ip_burst = 10000
per_device_requests_per_second = 10000
per_device_burst = 10000
TOML
}

# fault_start_server: starts aloftd (pid in $server_pid, log appended to $work/server.log) and
# waits until it answers /readyz on $server_direct.
fault_start_server() {
  "$bin/aloftd" -c "$work/aloftd.toml" serve 2>> "$work/server.log" &
  server_pid=$!
  local _
  for _ in $(seq 300); do
    curl -sf --cacert "$work/tls/ca.pem" "$server_direct/readyz" > /dev/null && return 0
    kill -0 "$server_pid" 2>/dev/null || fail "aloftd exited at start"
    sleep 0.1
  done
  fail "aloftd did not become ready"
}

# fault_setup_server PORT PUBLIC_URL: init, start, the admin signs in, the key ceremony and the
# roots. Sets server_direct, ALOFT_SERVER, ALOFT_CA, ALOFT_CREDENTIALS.
fault_setup_server() {
  local port=$1 public=$2
  server_direct="https://127.0.0.1:$port"
  export ALOFT_SERVER=$server_direct ALOFT_CA="$work/tls/ca.pem"
  export ALOFT_CREDENTIALS="$work/operator/credentials.json"
  mkdir -p "$work/tls" "$work/operator"
  chmod 700 "$work/operator"
  fault_write_server_config "$port" "$public" "$work/server"
  "$bin/aloftd" -c "$work/aloftd.toml" init --generate-tls \
    --admin-password-file "$work/operator/admin-one-time-password" > "$work/init.log" 2>&1 \
    || fail "aloftd init: $(cat "$work/init.log")"
  fault_start_server
  ALOFT_PASSWORD=$(cat "$work/operator/admin-one-time-password") \
    ALOFT_NEW_PASSWORD="$(head -c 18 /dev/urandom | base64 | tr -d '/+=')" \
    "$bin/aloftctl" login --username admin > "$work/login.log" 2>&1 \
    || fail "login: $(cat "$work/login.log")"
  head -c 24 /dev/urandom | base64 > "$work/operator/passphrase"
  chmod 600 "$work/operator/passphrase"
  ctl online-keys --output "$work/operator/online-keys.json" > /dev/null 2>&1 || fail "online-keys"
  ctl keys init --root-keys 1 --root-threshold 1 --targets-keys 1 --targets-threshold 1 \
    --online-keys "$work/operator/online-keys.json" > "$work/keys.log" 2>&1 \
    || fail "keys init: $(cat "$work/keys.log")"
  ctl repo upload-root > /dev/null 2>&1 || fail "repo upload-root"
  ctl repo director-root --output "$work/operator/director-root.json" > /dev/null 2>&1 \
    || fail "director-root"
}

# fault_make_image VERSION BYTES: $work/images/os-VERSION.img, a marker line then random bytes
# (incompressible, so the artifact is as large as the image).
fault_make_image() {
  mkdir -p "$work/images"
  { printf 'aloft-fault-image version=%s\n' "$1"; head -c "$2" /dev/urandom; } \
    > "$work/images/os-$1.img"
}

# fault_release VERSION...: creates, signs and uploads a release per version (images made by
# fault_make_image).
fault_release() {
  local v
  for v in "$@"; do
    ctl release create "$work/images/os-$v.img" --name "os-$v.img.zst" --version "$v" \
      --hardware fault-board --security-counter 1 > /dev/null 2>&1 || fail "release create $v"
  done
  local key=("$work/operator/repo/keys"/targets-*.pem)
  ctl release sign --key "${key[0]}" > /dev/null 2>&1 || fail "release sign"
  ctl release upload > "$work/upload.log" 2>&1 || fail "release upload: $(cat "$work/upload.log")"
}

# fault_enroll_device NAME SERVER_URL TOKEN: a simulated device in $work/NAME running v1 from
# slot a, enrolled and accepted. Extra agent.toml lines may come on stdin.
fault_enroll_device() {
  local name=$1 url=$2 token=$3 d="$work/$1"
  mkdir -p "$d"
  chmod 700 "$d"
  cp "$work/images/os-1.0.0.img" "$d/slot-a.img"
  : > "$d/slot-b.img"
  {
    cat <<TOML
server_url = "$url"
ca_file = "$work/tls/ca.pem"
device_id = "$name"
hardware_id = "fault-board"
data_dir = "$d/data"
enrollment_token = "$token"
poll_interval_seconds = 10
director_root = "$work/operator/director-root.json"
image_root = "$work/operator/repo/metadata/1.root.json"
max_update_attempts = 100
TOML
    cat
    cat <<TOML
[slots.a]
device = "$d/slot-a.img"
kind = "file"
[slots.b]
device = "$d/slot-b.img"
kind = "file"
[bootloader]
kind = "simulated"
env = "$d/bootloader.json"
TOML
  } > "$d/agent.toml"
  "$bin/aloft-agent" -c "$d/agent.toml" enroll > "$d/enroll.log" 2>&1 \
    || fail "$name enroll: $(cat "$d/enroll.log")"
  ctl device accept "$name" > /dev/null 2>&1 || fail "accept $name"
  # The first status creates the simulated bootloader's state: slot a booted.
  "$bin/aloft-agent" -c "$d/agent.toml" status > /dev/null 2>&1 || fail "$name status"
}

# fault_no_sanitizer_reports FILE...: fails if an ASan/UBSan/LSan report is in any of the logs
# (the ASan build runs these suites too; a report there is a bug even when the step passed).
fault_no_sanitizer_reports() {
  local hits
  hits=$(grep -l -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$@" 2>/dev/null || true)
  [[ -z $hits ]] || fail "sanitizer report in: $hits"
}
