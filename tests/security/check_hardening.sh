#!/usr/bin/env bash
# Checks that the shipped programs carry the hardening cmake/AloftHardening.cmake asks for:
# position-independent (ELF type DYN), full RELRO (a GNU_RELRO segment and BIND_NOW), a
# non-executable stack, stack canaries (__stack_chk_fail imported) and, in release builds,
# fortified libc calls (some __*_chk imported). Usage: check_hardening.sh BIN_DIR [--no-fortify]
set -euo pipefail
bin=${1:?usage: check_hardening.sh BIN_DIR [--no-fortify]}
fortify=1
[[ ${2:-} == --no-fortify ]] && fortify=0
status=0
for program in aloftd aloft-agent aloftctl; do
  file="$bin/$program"
  [[ -x $file ]] || { echo "$program: not built at $file" >&2; exit 1; }
  problems=()
  readelf -h "$file" | grep -q 'Type:[[:space:]]*DYN' || problems+=("not PIE")
  readelf -lW "$file" | grep -q 'GNU_RELRO' || problems+=("no RELRO segment")
  readelf -dW "$file" | grep -Eq '\(BIND_NOW\)|\(FLAGS\).*BIND_NOW|\(FLAGS_1\).*NOW' || problems+=("no BIND_NOW (partial RELRO)")
  readelf -lW "$file" | grep 'GNU_STACK' | grep -q 'RWE' && problems+=("executable stack")
  symbols=$(readelf --dyn-syms -W "$file")
  grep -q '__stack_chk_fail' <<< "$symbols" || problems+=("no stack protector")
  if [[ $fortify == 1 ]]; then
    grep -Eq '__[a-z_]+_chk@' <<< "$symbols" || problems+=("no fortified libc calls")
  fi
  if (( ${#problems[@]} )); then
    echo "$program: ${problems[*]}" >&2
    status=1
  else
    echo "$program: PIE, full RELRO, NX stack, stack protector$([[ $fortify == 1 ]] && echo ", fortified")"
  fi
done
exit $status
