#!/usr/bin/env bash
# The delta benchmark (issue #6): Aloft's patches next to bsdiff 4.3, `xdelta3 -9` and
# `zstd -19 --patch-from --long`, on real data that nobody here wrote (bench/delta/fetch_data.sh
# downloads and builds it). Per pair it prints the new image's size, its `zstd -19 --long` size,
# each tool's patch size, creation CPU time and peak RSS, application CPU time and peak RSS, and
# each as a ratio to bsdiff measured in the same run. Every applied result is compared with the
# new image (cmp); a mismatch fails the run.
#
# Usage: bench/delta/run_delta.sh [PAIR...]   PAIR is OLD:NEW (file names in the data dir);
#        default: the two esbuild pairs (x86-64), the same two for arm64 if they were fetched,
#        then the rootfs pair if it was built.
# Environment: ALOFTCTL (default build/bin/aloftctl), DELTA_DATA (default bench/delta/.data),
#   BSDIFF_TIMEOUT (seconds of wall time for bsdiff per pair, default 3600; past it bsdiff's
#   figures read "timeout" and the ratios are to the other tools only), DELTA_TOOLS (default
#   "aloft bsdiff xdelta3 zstd"), REPEAT (default 1: rounds over all tools, in turn; each
#   figure is then the median of its rounds, which on a noisy shared machine is steadier than
#   any single run).
# Peak RSS is the kernel's VmHWM of the process. For aloft's apply the report also shows its
# anonymous memory peak ("heap"): RSS minus the pages of the mapped source image, which is the
# figure the issue bounds (64 MiB beyond the read-only mapped source).
set -euo pipefail
cd "$(dirname "$0")/../.."
data=${DELTA_DATA:-bench/delta/.data}
aloftctl=$(realpath "${ALOFTCTL:-build/bin/aloftctl}")
tools=${DELTA_TOOLS:-aloft bsdiff xdelta3 zstd}
bsdiff_timeout=${BSDIFF_TIMEOUT:-3600}
rounds=${REPEAT:-1}
[[ $rounds =~ ^[1-9][0-9]*$ ]] || { echo "delta bench: REPEAT must be a positive number" >&2; exit 1; }
[[ -x $aloftctl ]] || { echo "delta bench: $aloftctl not found (build aloftctl first)" >&2; exit 1; }
for tool in bsdiff bspatch xdelta3 zstd; do
  command -v $tool > /dev/null || { echo "delta bench: $tool missing (scripts/install-deps --bench)" >&2; exit 1; }
done

work=$(mktemp -d "${BENCH_TMPDIR:-/var/tmp}/aloft-dbench.XXXXXX")
trap 'rm -rf "$work"' EXIT
gcc -O2 -Wall -o "$work/peakmem" bench/install/peakmem.c

if (($# == 0)); then
  set -- esbuild-0.24.0:esbuild-0.24.2 esbuild-0.20.0:esbuild-0.24.2
  [[ -f $data/esbuild-arm64-0.24.2 ]] &&
    set -- "$@" esbuild-arm64-0.24.0:esbuild-arm64-0.24.2 esbuild-arm64-0.20.0:esbuild-arm64-0.24.2
  [[ -f $data/rootfs-a.ext4 ]] && set -- "$@" rootfs-a.ext4:rootfs-b.ext4
fi

# measure NAME COMMAND...: runs COMMAND under peakmem; sets cpu_<NAME>, rss_<NAME>, anon_<NAME>
# (seconds, MiB, MiB), or "timeout"/"failed".
declare -A cpu rss anon
measure() {
  local name=$1 line rc=0
  shift
  line=$("$work/peakmem" -i 2000 -- "$@" 2> "$work/$name.err") || rc=$?
  line=$(grep '^wall_s=' <<<"$line" | tail -n 1 || true)
  if [[ $rc != 0 || -z $line ]]; then
    cpu[$name]=$([[ $rc == 124 ]] && echo timeout || echo failed)
    rss[$name]=${cpu[$name]}
    anon[$name]=${cpu[$name]}
    [[ $rc == 124 ]] || { echo "delta bench: $name failed (exit $rc):" >&2; tail -5 "$work/$name.err" >&2; }
    return 0
  fi
  local wall_s user_s sys_s hwm_kib peak_rss_kib peak_anon_kib samples
  eval "$line"
  cpu[$name]=$(awk -v u="$user_s" -v s="$sys_s" 'BEGIN { printf "%.2f", u + s }')
  rss[$name]=$(awk -v k="$hwm_kib" 'BEGIN { printf "%.1f", k / 1024 }')
  anon[$name]=$(awk -v k="$peak_anon_kib" 'BEGIN { printf "%.1f", k / 1024 }')
}

# median NAME ROUNDS: sets cpu/rss/anon[NAME] to the round with the median CPU of NAME.1..N
# (a failure or timeout in any round is reported as such).
median() {
  local name=$1 rounds=$2 r best="" values=()
  for ((r = 1; r <= rounds; r++)); do
    if [[ ! ${cpu[$name.$r]} =~ ^[0-9.]+$ ]]; then
      cpu[$name]=${cpu[$name.$r]}; rss[$name]=${cpu[$name]}; anon[$name]=${cpu[$name]}
      return 0
    fi
    values+=("${cpu[$name.$r]} $r")
  done
  best=$(printf '%s\n' "${values[@]}" | sort -n | sed -n "$(((rounds + 1) / 2))p" | cut -d' ' -f2)
  cpu[$name]=${cpu[$name.$best]}
  rss[$name]=${rss[$name.$best]}
  anon[$name]=${anon[$name.$best]}
}

ratio() {  # ratio VALUE BASE
  awk -v v="$1" -v b="$2" 'BEGIN { if (v !~ /^[0-9.]+$/ || b !~ /^[0-9.]+$/ || b == 0) print "-"; else printf "%.2f", v / b }'
}
size_of() { [[ -f $1 ]] && stat -c %s "$1" || echo failed; }

status=0
for pair in "$@"; do
  old=$data/${pair%%:*}
  new=$data/${pair##*:}
  [[ -f $old && -f $new ]] || { echo "delta bench: $old or $new missing (run bench/delta/fetch_data.sh)" >&2; exit 1; }
  old_size=$(stat -c %s "$old")
  new_size=$(stat -c %s "$new")
  big=$((old_size > new_size ? old_size : new_size))
  wlog=$(awk -v n="$big" 'BEGIN { l = 10; while (2 ^ l < n) l++; print (l < 31 ? l + 1 : 31) }')
  echo
  echo "== ${pair%%:*} -> ${pair##*:}: old $old_size bytes, new $new_size bytes"
  zstd -q -19 --long="$wlog" -T1 -f "$new" -o "$work/full.zst"
  full=$(stat -c %s "$work/full.zst")
  echo "   zstd -19 --long of new: $full bytes ($(ratio "$full" "$new_size") of new)"
  declare -A size=()
  for ((round = 1; round <= rounds; round++)); do
    for tool in $tools; do
      p=$work/$tool.patch out=$work/$tool.out
      rm -f "$p" "$out"
      case $tool in
        aloft)
          measure "c_$tool.$round" "$aloftctl" delta create "$old" "$new" "$p"
          measure "a_$tool.$round" "$aloftctl" delta apply "$old" "$p" "$out" ;;
        bsdiff)
          measure "c_$tool.$round" timeout "$bsdiff_timeout" bsdiff "$old" "$new" "$p"
          [[ -f $p ]] && measure "a_$tool.$round" bspatch "$old" "$out" "$p" ;;
        xdelta3)
          measure "c_$tool.$round" xdelta3 -9 -e -f -s "$old" "$new" "$p"
          measure "a_$tool.$round" xdelta3 -d -f -s "$old" "$p" "$out" ;;
        zstd)
          measure "c_$tool.$round" zstd -q -19 -T1 --long="$wlog" --patch-from="$old" -f "$new" -o "$p"
          measure "a_$tool.$round" zstd -q -d -T1 --long="$wlog" --patch-from="$old" -f "$p" -o "$out" ;;
      esac
      size[$tool]=$( [[ ${cpu[c_$tool.$round]} == timeout ]] && echo timeout || size_of "$p")
      if [[ -f $p ]] && ! cmp -s "$out" "$new"; then
        echo "delta bench: $tool's applied result differs from the new image" >&2
        status=1
      fi
      [[ -n ${cpu[a_$tool.$round]:-} ]] || { cpu[a_$tool.$round]=-; rss[a_$tool.$round]=-; anon[a_$tool.$round]=-; }
    done
  done
  for tool in $tools; do
    median "c_$tool" "$rounds"
    median "a_$tool" "$rounds"
  done
  ((rounds == 1)) || echo "   (medians of $rounds rounds)"
  printf '   %-8s %11s %7s %6s %9s %6s %9s %6s %9s %6s %9s %6s\n' tool patch_B "%new" x_bsd \
    create_s x_bsd create_MiB x_bsd apply_s x_bsd apply_MiB x_bsd
  for tool in $tools; do
    pct=$(awk -v p="${size[$tool]}" -v n="$new_size" 'BEGIN { if (p ~ /^[0-9]+$/) printf "%.2f", 100 * p / n; else print "-" }')
    printf '   %-8s %11s %7s %6s %9s %6s %9s %6s %9s %6s %9s %6s\n' "$tool" "${size[$tool]}" "$pct" \
      "$(ratio "${size[$tool]}" "${size[bsdiff]:-}")" \
      "${cpu[c_$tool]}" "$(ratio "${cpu[c_$tool]}" "${cpu[c_bsdiff]:-}")" \
      "${rss[c_$tool]}" "$(ratio "${rss[c_$tool]}" "${rss[c_bsdiff]:-}")" \
      "${cpu[a_$tool]}" "$(ratio "${cpu[a_$tool]}" "${cpu[a_bsdiff]:-}")" \
      "${rss[a_$tool]}" "$(ratio "${rss[a_$tool]}" "${rss[a_bsdiff]:-}")"
  done
  [[ $tools == *aloft* ]] && echo "   aloft apply heap (RSS without the mapped source): ${anon[a_aloft]} MiB"
  best=""
  for tool in bsdiff xdelta3 zstd; do
    [[ ${size[$tool]:-x} =~ ^[0-9]+$ ]] || continue
    [[ -z $best || ${size[$tool]} -lt $best ]] && best=${size[$tool]}
  done
  if [[ -n $best && ${size[aloft]:-x} =~ ^[0-9]+$ ]]; then
    echo "   aloft vs the smallest other patch: $(ratio "${size[aloft]}" "$best")x"
  fi
done
exit $status
