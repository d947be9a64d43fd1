#!/usr/bin/env bash
# The install benchmark (bench/README.md, "Install"): aloft-agent installing a zstd-compressed
# image of real binaries from the real aloftd over loopback HTTPS into a preallocated file slot,
# side by side with the copy floor (dd), the stream floor (zstd | tee sha256 | dd), Debian's
# swupdate and Debian's rauc, on the same image and the same slot file.
#
# Usage: bench/install/run_install.sh [SIZE_MIB...]        (default: 64 256 1024)
# Environment: BUILD (build directory, default build), SERVER_BUILD (where aloftd and aloftctl
#   come from, default BUILD), REPEAT (runs per tool and size, default 1;
#   the table shows the median), ALOFT_IBENCH_KEEP=1 keeps the work directory,
#   ALOFT_IBENCH_TOOLS (default "dd stream swupdate rauc aloft"), BENCH_TMPDIR (default /var/tmp),
#   ALOFT_IBENCH_ZSTD_LEVEL (default 19, aloftctl's; also rauc's squashfs level),
#   ALOFT_IBENCH_PERF=DIR runs the agent under `perf record -g` into DIR/aloft-SIZE.data (for
#   finding where its time goes; the figures of such a run include perf's overhead),
#   ALOFT_IBENCH_AGENT_TOML: lines appended to the agent's configuration, e.g.
#   $'[download]\nkeep_partial = false' (what a setting costs),
#   ALOFT_IBENCH_AGENT_LIBS=DIR runs the timed agent with LD_LIBRARY_PATH=DIR (what-if: a
#   device-grade libcurl from bench/install/min_curl.sh instead of Debian's).
# Needs: zstd, openssl, cpio, gcc (for the sampler), swupdate, rauc, squashfs-tools, dbus-daemon
#   (scripts/install-deps installs them). rauc and swupdate need root (loop mount; slot files).
# Exit status: non-zero if aloft-agent's install failed or a tool left wrong bytes in the slot;
# with ALOFT_IBENCH_STRICT=1 also if aloft-agent missed a target (the table always says which).
# A baseline that cannot run here is reported, not fatal.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
build=${BUILD:-build}
bin=$root/$build/bin
[[ $build == /* ]] && bin=$build/bin
server_bin=$bin  # aloftd and aloftctl; SERVER_BUILD takes them from another build directory
if [[ -n ${SERVER_BUILD:-} ]]; then
  server_bin=$root/$SERVER_BUILD/bin
  [[ $SERVER_BUILD == /* ]] && server_bin=$SERVER_BUILD/bin
fi
repeat=${REPEAT:-1}
tools=${ALOFT_IBENCH_TOOLS:-"dd stream swupdate rauc aloft"}
# aloftctl's default level; rauc's squashfs gets the same one (swupdate gets the artifact itself)
zstd_level=${ALOFT_IBENCH_ZSTD_LEVEL:-19}
sizes=("$@")
((${#sizes[@]})) || sizes=(64 256 1024)
for b in "$server_bin/aloftd" "$server_bin/aloftctl" "$bin/aloft-agent"; do
  [[ -x $b ]] || { echo "install bench: $b not found; build it first" >&2; exit 1; }
done

work=$(mktemp -d "${BENCH_TMPDIR:-/var/tmp}/aloft-ibench.XXXXXX")
chmod 700 "$work"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [[ ${ALOFT_IBENCH_KEEP:-0} == 1 ]]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
log() { printf '  %s\n' "$*" >&2; }
die() { echo "install bench: $*" >&2; exit 1; }
results=$work/results.tsv   # size tool run wall user sys hwm peak_rss peak_anon
: > "$results"

gcc -O2 -Wall -o "$work/peakmem" bench/install/peakmem.c
measure() {  # measure SIZE TOOL RUN [-a PID] -- COMMAND...: runs COMMAND under peakmem
  local size=$1 tool=$2 run=$3 line rc=0
  shift 3
  line=$("$work/peakmem" -i 500 "$@" 2> "$work/$tool-$size.err") || rc=$?
  line=$(grep '^wall_s=' <<<"$line" | tail -n 1)
  [[ -n $line ]] || { cat "$work/$tool-$size.err" >&2; return 1; }
  eval "local $line"
  log "$tool $size MiB run $run: $line (exit $rc)"
  # Only a successful install is a figure: 0, or 75 (installed, reboot requested) for the agent.
  [[ $rc == 0 || ($tool == aloft && $rc == 75) ]] || return "$rc"
  # shellcheck disable=SC2154  # set by the eval above
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$size" "$tool" "$run" "$wall_s" "$user_s" \
    "$sys_s" "$hwm_kib" "$peak_rss_kib" "$peak_anon_kib" >> "$results"
  return "$rc"
}

# --- images: real binaries, not zeros -------------------------------------------------------
make_image() {  # SIZE_MIB OUT: /usr/bin and /usr/lib files, concatenated in a fixed order
  local bytes=$(($1 << 20))
  find /usr/bin /usr/lib -xdev -type f -size +0 -print0 2>/dev/null | sort -z \
    | xargs -0 cat 2>/dev/null | head -c "$bytes" > "$2" || true
  [[ $(stat -c %s "$2") == "$bytes" ]] || die "could not make a $1 MiB image from /usr"
}
echo "Install benchmark: sizes ${sizes[*]} MiB, tools: $tools, $repeat run(s) each, work $work"
mkdir -p "$work/images"
for size in "${sizes[@]}"; do
  make_image "$size" "$work/images/os-$size.img"
  sha256sum "$work/images/os-$size.img" | cut -d' ' -f1 > "$work/images/os-$size.sha256"
done

# --- aloftd on loopback, HTTPS with its generated CA -----------------------------------------
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
server="https://127.0.0.1:$port"
export ALOFT_SERVER=$server ALOFT_CA="$work/tls/ca.pem" ALOFT_CREDENTIALS="$work/operator/credentials.json"
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
"$server_bin/aloftd" -c "$work/aloftd.toml" init --generate-tls \
  --admin-password-file "$work/operator/admin-one-time-password" > "$work/init.log"
"$server_bin/aloftd" -c "$work/aloftd.toml" serve 2> "$work/server.log" &
pids+=($!)
for _ in $(seq 100); do
  curl -sf --cacert "$work/tls/ca.pem" "$server/readyz" > /dev/null && break
  sleep 0.1
done
curl -sf --cacert "$work/tls/ca.pem" "$server/readyz" > /dev/null || die "aloftd did not start"
ALOFT_PASSWORD=$(cat "$work/operator/admin-one-time-password") \
  ALOFT_NEW_PASSWORD=$(head -c 18 /dev/urandom | base64 | tr -d '/+=') \
  "$server_bin/aloftctl" login --username admin > /dev/null
head -c 24 /dev/urandom | base64 > "$work/operator/passphrase"
chmod 600 "$work/operator/passphrase"
ctl() { "$server_bin/aloftctl" --repo "$work/operator/repo" --passphrase-file "$work/operator/passphrase" "$@"; }
ctl online-keys --output "$work/operator/online-keys.json" > /dev/null
ctl keys init --root-keys 1 --root-threshold 1 --targets-keys 1 --targets-threshold 1 \
  --online-keys "$work/operator/online-keys.json" > /dev/null
ctl repo upload-root > /dev/null
ctl repo director-root --output "$work/operator/director-root.json" > /dev/null
# One release per size, each for its own hardware id, so that each device gets exactly one.
for size in "${sizes[@]}"; do
  ctl release create "$work/images/os-$size.img" --name "os-$size.img.zst" --version "$size.0.0" \
    --hardware "bench-$size" --security-counter 1 --zstd-level "$zstd_level" > /dev/null
done
ctl release sign --key "$work/operator/repo/keys"/targets-*.pem > /dev/null
ctl release upload > /dev/null
for size in "${sizes[@]}"; do  # the exact artifact aloftd serves, reused by the baselines
  sha=$(python3 - "$work/operator/repo/metadata" "os-$size.img.zst" <<'PY'
import glob, json, os, sys
files = glob.glob(os.path.join(sys.argv[1], "*.targets.json"))
latest = max(files, key=lambda f: int(os.path.basename(f).split(".")[0]))
print(json.load(open(latest))["signed"]["targets"][sys.argv[2]]["hashes"]["sha256"])
PY
)
  [[ -e $work/operator/repo/artifacts/$sha ]] || die "no artifact for os-$size.img.zst"
  cp "$work/operator/repo/artifacts/$sha" "$work/images/os-$size.img.zst"
done
enroll_token=$(ctl --json enroll-token create --uses 100 --valid-hours 2 \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
log "aloftd on $server; releases signed and uploaded"

# --- the slot ---------------------------------------------------------------------------------
# Every tool writes the same preallocated file; it is reset (fallocate, zeros on disk) before
# each run and checked after it.
slot_of() { echo "$work/slot-$1.img"; }
reset_slot() {  # SIZE
  local slot
  slot=$(slot_of "$1")
  rm -f "$slot"
  fallocate -l $(($1 << 20)) "$slot"
  sync -f "$slot"
}
check_slot() {  # SIZE TOOL
  local got
  got=$(head -c $(($1 << 20)) "$(slot_of "$1")" | sha256sum | cut -d' ' -f1)
  [[ $got == "$(cat "$work/images/os-$1.sha256")" ]] && return 0
  echo "install bench: $2 left wrong bytes in the $1 MiB slot" >&2
  return 1
}
bad=0

# --- aloft-agent -----------------------------------------------------------------------------
run_aloft() {  # SIZE RUN
  local size=$1 run=$2 d="$work/dev-$1-$2" rc=0
  mkdir -p "$d"
  chmod 700 "$d"
  head -c 4096 "$work/images/os-$size.img" > "$d/slot-a.img"  # the factory image (A boots)
  cat > "$d/agent.toml" <<TOML
server_url = "$server"
ca_file = "$work/tls/ca.pem"
device_id = "dev-$size-$run"
hardware_id = "bench-$size"
data_dir = "$d/data"
enrollment_token = "$enroll_token"
poll_interval_seconds = 10
director_root = "$work/operator/director-root.json"
image_root = "$work/operator/repo/metadata/1.root.json"
[slots.a]
device = "$d/slot-a.img"
kind = "file"
[slots.b]
device = "$(slot_of "$size")"
kind = "file"
[bootloader]
kind = "simulated"
env = "$d/bootloader.json"
${ALOFT_IBENCH_AGENT_TOML:-}
TOML
  "$bin/aloft-agent" -c "$d/agent.toml" enroll > "$d/enroll.log" 2>&1 || die "enroll: $(cat "$d/enroll.log")"
  ctl device accept "dev-$size-$run" > /dev/null
  ctl deploy create "os-$size.img.zst" --to-device "dev-$size-$run" > /dev/null
  # One poll: Director + Image refresh, download, decompress, hash, write, fsync, re-read the
  # slot, prepare the trial boot, then exit 75 (reboot requested).
  local wrap=()
  [[ -n ${ALOFT_IBENCH_PERF:-} ]] && wrap=(perf record -F 1999 -g -o "$ALOFT_IBENCH_PERF/aloft-$size.data" --)
  [[ -n ${ALOFT_IBENCH_AGENT_LIBS:-} ]] && wrap=(env "LD_LIBRARY_PATH=$ALOFT_IBENCH_AGENT_LIBS" "${wrap[@]}")
  measure "$size" aloft "$run" -- "${wrap[@]}" "$bin/aloft-agent" -c "$d/agent.toml" check || rc=$?
  [[ $rc == 75 ]] || { tail -n 20 "$work/aloft-$size.err" >&2; die "aloft-agent check exited $rc, not 75"; }
  local trial
  trial=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])))' "$d/bootloader.json")
  log "bootloader after the install: $trial"
}

# --- the floors ----------------------------------------------------------------------------------
run_dd() {  # SIZE RUN
  measure "$1" dd "$2" -- dd if="$work/images/os-$1.img" of="$(slot_of "$1")" bs=1M \
    conv=notrunc,fsync status=none
}
run_stream() {  # SIZE RUN: decompress, hash on the side, write; `wait $!` reaps openssl
  measure "$1" stream "$2" -- bash -c 'set -o pipefail
    zstd -dc "$1" | tee >(openssl dgst -sha256 > "$3") \
      | dd of="$2" bs=1M iflag=fullblock conv=notrunc,fsync status=none
    rc=$?; wait $!; exit $rc' _ "$work/images/os-$1.img.zst" "$(slot_of "$1")" "$work/stream-$1.sha"
}

# --- swupdate ------------------------------------------------------------------------------------
pki() {  # a CA and a code-signing certificate it issued, for swupdate (CMS) and rauc
  [[ -e $work/pki/ca.pem ]] && return 0
  mkdir -p "$work/pki"
  (cd "$work/pki"
   openssl req -x509 -newkey rsa:3072 -nodes -keyout ca.key -out ca.pem -days 2 \
     -subj "/CN=bench CA" -addext "basicConstraints=critical,CA:TRUE" \
     -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
   openssl req -newkey rsa:3072 -nodes -keyout signer.key -out signer.csr -subj "/CN=bench signer" 2>/dev/null
   printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=emailProtection,codeSigning\n' > ext.cnf
   openssl x509 -req -in signer.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out signer.pem \
     -days 2 -extfile ext.cnf 2>/dev/null)
}
make_swu() {  # SIZE → $work/swu-SIZE/update.swu: sw-description, its CMS signature, the artifact
  local size=$1 dir="$work/swu-$1"
  [[ -e $dir/update.swu ]] && return 0
  pki
  mkdir -p "$dir"
  cp "$work/images/os-$size.img.zst" "$dir/rootfs.img.zst"
  cat > "$dir/sw-description" <<EOF
software =
{
  version = "$size.0.0";
  hardware-compatibility = [ "rev" ];
  stable = {
    slotB = {
      images: (
        {
          filename = "rootfs.img.zst";
          device = "$(slot_of "$size")";
          type = "raw";
          compressed = "zstd";
          installed-directly = true;
          sha256 = "$(sha256sum "$dir/rootfs.img.zst" | cut -d' ' -f1)";
        }
      );
    };
  };
}
EOF
  openssl cms -sign -in "$dir/sw-description" -out "$dir/sw-description.sig" \
    -signer "$work/pki/signer.pem" -inkey "$work/pki/signer.key" -outform DER -nosmimecap -binary
  (cd "$dir" && printf '%s\n' sw-description sw-description.sig rootfs.img.zst \
     | cpio -o -H crc --quiet > update.swu)
}
run_swupdate() {  # SIZE RUN
  command -v swupdate > /dev/null || { log "swupdate: not installed"; return 1; }
  make_swu "$1"
  local tmp="$work/swu-tmp-$1-$2"
  mkdir -p "$tmp"
  # swupdate's raw handler closes the slot without fsync (checked with strace, see README):
  # the sync that follows is timed too, so every tool's figure includes durability.
  TMPDIR=$tmp measure "$1" swupdate "$2" -- bash -c \
    'swupdate -k "$1" -H board:rev -e stable,slotB -i "$2" -l 3 && sync -d "$3"' _ \
    "$work/pki/ca.pem" "$work/swu-$1/update.swu" "$(slot_of "$1")"
}

# --- rauc ----------------------------------------------------------------------------------------
rauc_bus=""
rauc_pid=""
rauc_setup() {  # a private session bus, the system config and `rauc service` on that bus
  [[ -n $rauc_pid ]] && return 0
  command -v rauc > /dev/null || { log "rauc: not installed"; return 1; }
  command -v mksquashfs > /dev/null || { log "rauc: mksquashfs (squashfs-tools) not installed"; return 1; }
  pki
  mkdir -p "$work/rauc"
  rauc_bus=$(dbus-daemon --session --fork --print-address=1 --print-pid=3 3> "$work/rauc/dbus.pid")
  pids+=("$(cat "$work/rauc/dbus.pid")")
  return 0
}
rauc_service() {  # SIZE: (re)start `rauc service` with the slots of this size
  local size=$1
  if [[ -n $rauc_pid ]]; then kill "$rauc_pid" 2>/dev/null || true; wait "$rauc_pid" 2>/dev/null || true; fi
  : > "$work/rauc/slot-a-$size.img"
  cat > "$work/rauc/system-$size.conf" <<EOF
[system]
compatible=aloft-bench
bootloader=noop
mountprefix=$work/rauc/mnt
data-directory=$work/rauc/data

[keyring]
path=$work/pki/ca.pem

[slot.rootfs.0]
device=$work/rauc/slot-a-$size.img
type=raw
bootname=A

[slot.rootfs.1]
device=$(slot_of "$size")
type=raw
bootname=B
EOF
  mkdir -p "$work/rauc/mnt" "$work/rauc/data"
  DBUS_SESSION_BUS_ADDRESS=$rauc_bus DBUS_STARTER_BUS_TYPE=session \
    rauc service --conf="$work/rauc/system-$size.conf" --override-boot-slot=A \
    > "$work/rauc/service-$size.log" 2>&1 &
  rauc_pid=$!
  pids+=("$rauc_pid")
  for _ in $(seq 50); do
    DBUS_SESSION_BUS_ADDRESS=$rauc_bus DBUS_STARTER_BUS_TYPE=session rauc status > /dev/null 2>&1 && return 0
    kill -0 "$rauc_pid" 2>/dev/null || break
    sleep 0.1
  done
  log "rauc service did not come up: $(tail -n 5 "$work/rauc/service-$size.log")"
  return 1
}
make_raucb() {  # SIZE → $work/rauc/bundle-SIZE.raucb: plain bundle, zstd squashfs
  local size=$1 dir="$work/rauc/content-$1"
  [[ -e $work/rauc/bundle-$size.raucb ]] && return 0
  mkdir -p "$dir"
  cp "$work/images/os-$size.img" "$dir/rootfs.img"
  cat > "$dir/manifest.raucm" <<EOF
[update]
compatible=aloft-bench
version=$size.0.0

[bundle]
format=plain

[image.rootfs]
filename=rootfs.img
EOF
  rauc bundle --cert="$work/pki/signer.pem" --key="$work/pki/signer.key" \
    --keyring="$work/pki/ca.pem" --mksquashfs-args="-comp zstd -Xcompression-level $zstd_level" \
    "$dir" "$work/rauc/bundle-$size.raucb" > "$work/rauc/bundle-$size.log" 2>&1 \
    || { log "rauc bundle: $(tail -n 3 "$work/rauc/bundle-$size.log")"; return 1; }
  rm -rf "$dir"
}
run_rauc() {  # SIZE RUN: the client asks the service; the service's CPU and memory are measured
  rauc_setup || return 1
  make_raucb "$1" || return 1
  rauc_service "$1" || return 1
  DBUS_SESSION_BUS_ADDRESS=$rauc_bus DBUS_STARTER_BUS_TYPE=session \
    measure "$1" rauc "$2" -a "$rauc_pid" -- rauc install "$work/rauc/bundle-$1.raucb"
}

# --- the runs ------------------------------------------------------------------------------------
declare -A unavailable=()
for size in "${sizes[@]}"; do
  echo "== $size MiB image ($(stat -c %s "$work/images/os-$size.img.zst") bytes compressed)"
  for ((run = 1; run <= repeat; run++)); do
    for tool in $tools; do
      [[ -n ${unavailable[$tool]:-} ]] && continue
      reset_slot "$size"
      if "run_$tool" "$size" "$run"; then
        check_slot "$size" "$tool" || bad=1
      elif [[ $tool == aloft || $tool == dd || $tool == stream ]]; then
        die "$tool failed"
      else
        unavailable[$tool]=1
        log "$tool could not run here; see $work/$tool-$size.err and the log above"
        [[ -e $work/$tool-$size.err ]] && tail -n 5 "$work/$tool-$size.err" | sed 's/^/    /' >&2
      fi
    done
  done
done

echo
missed=0
python3 bench/install/report.py "$results" "${sizes[@]}" || missed=1
[[ $missed == 1 && ${ALOFT_IBENCH_STRICT:-0} == 1 ]] && bad=1
exit "$bad"
