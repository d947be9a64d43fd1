#!/usr/bin/env bash
# Server crashes (issue 8, point 4): aloftd is SIGKILLed again and again while clients write to
# it concurrently, and restarted each time:
#
#   device reports   aloft-fault-writer, one per device (aloft-agent's own identity and API
#                    client), each report id logged the moment the server acknowledges it
#   artifact uploads PUT /api/v1/artifacts/<sha256> (the management API aloftctl uses), 16–256
#                    KiB of random bytes each; a 2xx answer is logged
#   deployments      `aloftctl deploy create`, then POST .../pause, /resume, /cancel in a cycle;
#                    each 2xx logged with the state it implies, each attempt before it is made
#
# After every kill (server down): `PRAGMA integrity_check` on the database says ok. At the end:
# the audit chain verifies (`aloftctl audit verify`), every acknowledged report is in the
# database, every acknowledged artifact downloads with its hash, and every deployment is in the
# state its last acknowledged change left it in (or in the state of a change attempted after
# that, which the kill may or may not have let through).
#
# Then a full disk: aloftd restarts with its blob store on a 1 MiB tmpfs; an upload larger than
# the space left must get 507 (insufficient storage) with aloftd still serving, leave no blob
# and no temporary file behind, and a small upload must still work. This needs mount(8) as
# root; without it that part is reported as skipped.
#
# Figure: `server kills: N, acknowledged writes lost: 0`. Quick mode (make test): 3 kills.
# ALOFT_FAULT_SOAK=1 (make soak): 30 kills. ALOFT_FAULT_KILLS overrides; ALOFT_FAULT_SEED
# reproduces the kill timing.
set -euo pipefail

bin=${ALOFT_BIN_DIR:?ALOFT_BIN_DIR must point at build/bin}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [[ ${ALOFT_FAULT_SOAK:-0} == 1 ]]; then kills=${ALOFT_FAULT_KILLS:-30}; else kills=${ALOFT_FAULT_KILLS:-3}; fi
seed=${ALOFT_FAULT_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
RANDOM=$((seed % 32768))

work=$(mktemp -d "${TMPDIR:-/tmp}/aloft-fault-crash.XXXXXX")
chmod 700 "$work"
server_pid="" mounted="" writer_pids=()
cleanup() {
  touch "$work/stop"
  for p in "${writer_pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${writer_pids[@]}"; do wait "$p" 2>/dev/null || true; done
  [[ -n $server_pid ]] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true
  [[ -n $mounted ]] && umount "$mounted" 2>/dev/null || true
  if [[ ${ALOFT_FAULT_KEEP:-0} == 1 ]]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
fail() {
  exec 1>&2
  echo "FAIL: $* (seed $seed)"
  echo "--- aloftd log (last 25 lines)"; tail -n 25 "$work/server.log" 2>/dev/null || true
  exit 1
}
# shellcheck source=lib.sh
source "$here/lib.sh"
started=$SECONDS
echo "server crashes: seed $seed, $kills kills"

port=$(free_port)
fault_setup_server "$port" "https://127.0.0.1:$port"
db="$work/server/aloft.db"
fault_make_image 1.0.0 65536
fault_release 1.0.0
token=$(ctl --json enroll-token create --uses 2 --valid-hours 1 | json 'd["token"]')
for n in 1 2; do fault_enroll_device "dev-$n" "$server_direct" "$token" < /dev/null; done
api_token=$(json 'd["servers"]["'"$server_direct"'"]["token"]' < "$ALOFT_CREDENTIALS")
echo "set up in $((SECONDS - started))s"

# --- the writers ------------------------------------------------------------------------------
mkdir -p "$work/acked"
for n in 1 2; do
  "$bin/aloft-fault-writer" -c "$work/dev-$n/agent.toml" --prefix "crash-$n" \
    --acked "$work/acked/reports-dev-$n" --stop-file "$work/stop" > "$work/writer-$n.log" 2>&1 &
  writer_pids+=($!)
done

upload_writer() {
  local i=0 f="$work/upload.bin" code sha
  while [[ ! -e $work/stop ]]; do
    head -c $(( (RANDOM % 16 + 1) * 16384 )) /dev/urandom > "$f"
    sha=$(sha256_of "$f")
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 --cacert "$ALOFT_CA" -X PUT \
      -H "Authorization: Bearer $api_token" -H 'Content-Type: application/octet-stream' \
      --data-binary @"$f" "$server_direct/api/v1/artifacts/$sha" || true)
    [[ $code == 2* ]] && echo "$sha" >> "$work/acked/artifacts"
    i=$((i + 1))
  done
}
upload_writer &
writer_pids+=($!)

# A cycle of deployment changes on dev-2 (whose agent never runs, so only these calls move it).
deploy_writer() {
  local id="" state="" op next out code
  while [[ ! -e $work/stop ]]; do
    if [[ -z $id || $state == cancelled ]]; then
      out=$(ctl --json deploy create os-1.0.0.img.zst --to-device dev-2 --deadline 24h 2>/dev/null) \
        && id=$(json 'd["id"]' <<<"$out") && state=active && echo "ack $id active" >> "$work/acked/deployments" \
        || sleep 0.2
      continue
    fi
    case $state in
      active) op=pause next=paused ;;
      paused) op=resume next=active ;;
    esac
    # Every other resume is a cancel instead, so that deployments come and go.
    if [[ $state == paused && $((RANDOM % 2)) == 0 ]]; then op=cancel next=cancelled; fi
    echo "attempt $id $next" >> "$work/acked/deployments"
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 --cacert "$ALOFT_CA" -X POST \
      -H "Authorization: Bearer $api_token" -H 'Content-Type: application/json' \
      --data '{"reason":"fault suite"}' "$server_direct/api/v1/deployments/$id/$op" || true)
    if [[ $code == 2* ]]; then
      state=$next
      echo "ack $id $next" >> "$work/acked/deployments"
    else
      # Unknown outcome: read what the server kept, once it answers again.
      sleep 0.2
      out=$(ctl --json deploy status "$id" 2>/dev/null) && state=$(json 'd["state"]' <<<"$out") || true
    fi
  done
}
deploy_writer &
writer_pids+=($!)

# --- the kills --------------------------------------------------------------------------------
for ((k = 1; k <= kills; k++)); do
  sleep "$((RANDOM % 20 + 10))e-1"  # 1–2.9 s of writes
  kill -KILL "$server_pid"
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
  check=$(sqlite3 "$db" 'PRAGMA integrity_check;' 2>&1) || fail "sqlite3 after kill $k: $check"
  [[ $check == ok ]] || fail "integrity_check after kill $k: $check"
  fault_start_server
done
sleep 1  # writes against the last restart
touch "$work/stop"
for p in "${writer_pids[@]}"; do wait "$p" || fail "a writer failed"; done
writer_pids=()

# --- what survived ----------------------------------------------------------------------------
check=$(sqlite3 "$db" 'PRAGMA integrity_check;' 2>&1)
[[ $check == ok ]] || fail "integrity_check at the end: $check"
ctl --json audit verify > "$work/audit.json" 2>&1 || fail "audit verify: $(cat "$work/audit.json")"
json 'd["ok"]' < "$work/audit.json" | grep -qx True || fail "audit chain: $(cat "$work/audit.json")"

lost=0
# Reports: every acknowledged id is in device_reports, once.
sqlite3 "$db" "SELECT device_id || ' ' || id FROM device_reports WHERE id LIKE 'crash-%';" \
  | sort > "$work/stored-reports"
[[ -z $(uniq -d "$work/stored-reports") ]] || fail "a report was stored twice"
reports_acked=0
for n in 1 2; do
  f="$work/acked/reports-dev-$n"
  [[ -s $f ]] || fail "dev-$n: no report was acknowledged at all ($(cat "$work/writer-$n.log"))"
  reports_acked=$((reports_acked + $(wc -l < "$f")))
  missing=$(sed "s/^/dev-$n /" "$f" | sort -u | comm -23 - "$work/stored-reports" | wc -l)
  ((missing == 0)) || echo "LOST: $missing acknowledged reports of dev-$n"
  lost=$((lost + missing))
done
# Artifacts: every acknowledged one downloads whole.
artifacts_acked=0
while read -r sha; do
  artifacts_acked=$((artifacts_acked + 1))
  got=$(curl -sf --cacert "$ALOFT_CA" "$server_direct/api/v1/targets/$sha.bin" | sha256sum | cut -d' ' -f1)
  [[ $got == "$sha" ]] || { echo "LOST: artifact $sha"; lost=$((lost + 1)); }
done < <(sort -u "$work/acked/artifacts" 2>/dev/null)
((artifacts_acked > 0)) || fail "no artifact upload was acknowledged"
# Deployments: the state of the last acknowledged change, or of a change attempted after it.
ctl --json deploy list > "$work/deployments.json" || fail "deploy list"
read -r deploy_acked deploy_lost < <(python3 - "$work/acked/deployments" "$work/deployments.json" <<'PY'
import json, sys
journal = [line.split() for line in open(sys.argv[1])]
data = json.load(open(sys.argv[2]))
items = data["deployments"] if isinstance(data, dict) else data
actual = {d["id"]: d["state"] for d in items}
acked = lost = 0
allowed = {}
for kind, dep, state in journal:
    if kind == "ack":
        acked += 1
        allowed[dep] = {state}
    elif dep in allowed:
        allowed[dep].add(state)
for dep, states in allowed.items():
    if actual.get(dep) not in states:
        print("LOST: deployment %s is %s, expected one of %s" % (dep, actual.get(dep), sorted(states)),
              file=sys.stderr)
        lost += 1
print(acked, lost)
PY
)
((deploy_acked > 0)) || fail "no deployment change was acknowledged"
lost=$((lost + deploy_lost))
echo "acknowledged: $reports_acked reports, $artifacts_acked artifacts, $deploy_acked deployment changes; database integrity ok after every kill; audit chain ok"

# --- a full disk under the blob store --------------------------------------------------------
full_disk="skipped (mounting a tmpfs needs root)"
kill "$server_pid" && wait "$server_pid" 2>/dev/null || true
server_pid=""
mv "$work/server/blobs" "$work/blobs-full"
mkdir -m 0750 "$work/server/blobs"
if mount -t tmpfs -o size=1m,mode=0750 aloft-fault-blobs "$work/server/blobs" 2>/dev/null; then
  mounted="$work/server/blobs"
  fault_start_server
  put() {  # FILE → HTTP status of its upload
    curl -s -o "$work/put.json" -w '%{http_code}' --cacert "$ALOFT_CA" -X PUT \
      -H "Authorization: Bearer $api_token" -H 'Content-Type: application/octet-stream' \
      --data-binary @"$1" "$server_direct/api/v1/artifacts/$(sha256_of "$1")" || true
  }
  head -c 300000 /dev/urandom > "$work/small.bin"
  head -c 2000000 /dev/urandom > "$work/big.bin"
  code=$(put "$work/small.bin")
  [[ $code == 201 ]] || fail "upload to the small blob store: HTTP $code $(cat "$work/put.json")"
  code=$(put "$work/big.bin")
  [[ $code == 507 ]] || fail "upload beyond the free space: HTTP $code (expected 507) $(cat "$work/put.json")"
  error=$(json 'd["error"]["code"]' < "$work/put.json" 2>/dev/null || echo "?")
  curl -sf --cacert "$ALOFT_CA" "$server_direct/readyz" > /dev/null || fail "aloftd stopped serving after the full disk"
  big=$(sha256_of "$work/big.bin")
  code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$ALOFT_CA" "$server_direct/api/v1/targets/$big.bin")
  [[ $code == 404 ]] || fail "the refused artifact answers HTTP $code"
  [[ -z $(find "$work/server/blobs" -name "$big*") ]] || fail "a blob of the refused upload is on disk"
  [[ -z $(find "$work/server/blobs/tmp" -type f) ]] || fail "the refused upload left a temporary file"
  head -c 100000 /dev/urandom > "$work/small2.bin"
  code=$(put "$work/small2.bin")
  [[ $code == 201 ]] || fail "a small upload after the full disk: HTTP $code"
  full_disk="507 $error, server up, no partial blob, next upload 201"
  kill "$server_pid" && wait "$server_pid" 2>/dev/null || true
  server_pid=""
  umount "$mounted"
  mounted=""
fi
rmdir "$work/server/blobs" 2>/dev/null || true
mv "$work/blobs-full" "$work/server/blobs"
echo "full disk on the blob store: $full_disk"

fault_no_sanitizer_reports "$work/server.log" "$work"/writer-*.log "$work"/dev-*/enroll.log
((lost == 0)) || fail "$lost acknowledged writes lost"
echo "server kills: $kills, acknowledged writes lost: $lost ($reports_acked reports, $artifacts_acked artifacts, $deploy_acked deployment changes acknowledged; seed $seed, $((SECONDS - started))s)"
