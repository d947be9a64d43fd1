#!/usr/bin/env bash
# fuzz/run.sh BUILD_DIR [TARGET...]: runs each libFuzzer target of an ALOFT_FUZZ=ON build for
# FUZZ_SECONDS (default 60), one at a time, starting from its corpus in tests/fuzz/corpus/<target>
# (read only: new inputs go to a scratch directory), and prints per target the executions and
# crashes from libFuzzer's final stats. Crashing inputs are kept in BUILD_DIR/fuzz-artifacts/
# <target>/ with the log. Exits non-zero if any target crashed (or failed to run).
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${1:?usage: fuzz/run.sh BUILD_DIR [TARGET...]}
shift
seconds=${FUZZ_SECONDS:-60}
targets=("$@")
if ((${#targets[@]} == 0)); then
  targets=(json metadata_parse metadata_verify http delta server_config agent_config)
fi

failed=0
total_execs=0
total_crashes=0
summary=()
for t in "${targets[@]}"; do
  bin=$build/bin/aloft_fuzz_$t
  corpus=$repo/tests/fuzz/corpus/$t
  if [[ ! -x $bin ]]; then
    echo "fuzz $t: $bin is missing (configure with -DALOFT_FUZZ=ON and build it)" >&2
    failed=1
    continue
  fi
  artifacts=$build/fuzz-artifacts/$t
  scratch=$(mktemp -d)
  rm -rf "$artifacts"
  mkdir -p "$artifacts"
  log=$artifacts/fuzz.log
  echo "fuzz $t: running for ${seconds}s"
  status=0
  # -timeout: an input that runs longer than this is a hang, reported like a crash.
  "$bin" -max_total_time="$seconds" -timeout=30 -print_final_stats=1 \
    -artifact_prefix="$artifacts/" "$scratch" "$corpus" > "$log" 2>&1 || status=$?
  rm -rf "$scratch"
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  crashes=$(find "$artifacts" -maxdepth 1 -type f \
    \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) | wc -l)
  if ((status != 0 && crashes == 0)); then
    echo "fuzz $t: libFuzzer exited with status $status without an artifact; see $log" >&2
    failed=1
  fi
  line="fuzz $t: executions: ${execs:-0} (${rate:-0}/s), crashes: $crashes"
  echo "$line"
  summary+=("$line")
  total_execs=$((total_execs + ${execs:-0}))
  total_crashes=$((total_crashes + crashes))
  if ((crashes > 0)); then
    failed=1
    echo "fuzz $t: crashing inputs in $artifacts (log: $log)" >&2
    grep -m1 -E 'ERROR: |invariant broken|runtime error' "$log" >&2 || true
  fi
done

echo
printf '%s\n' "${summary[@]}"
echo "fuzz targets: ${#targets[@]}, executions: $total_execs, crashes: $total_crashes"
exit $failed
