#!/usr/bin/env bash
# Interoperability round trip with securesystemslib (the ctest interop_securesystemslib):
#   1. securesystemslib_vectors.py emit   -> aloft-interop-tool verify
#   2. aloft-interop-tool emit            -> securesystemslib_vectors.py verify
# Both directions always run; the test fails if either does. A missing securesystemslib is a
# failure, not a skip: scripts/install-deps installs it.
#
# usage: run_interop.sh AloftInteropTool SecuresystemslibVectorsPy
# ALOFT_INTEROP_PYTHON overrides the interpreter (default /usr/bin/python3: the Debian packages
# are invisible to a pyenv or venv python3 earlier on PATH).
set -euo pipefail

if (($# != 2)); then
  echo "usage: $0 AloftInteropTool SecuresystemslibVectorsPy" >&2
  exit 2
fi
tool=$1
vectors_py=$2
python=${ALOFT_INTEROP_PYTHON:-/usr/bin/python3}

if [[ ! -x $tool ]]; then
  echo "run_interop: FAIL: $tool is not built (cmake --build ... --target aloft-interop-tool)" >&2
  exit 1
fi
if ! "$python" -c 'import securesystemslib, cryptography' 2>/dev/null; then
  echo "run_interop: FAIL: $python cannot import securesystemslib and cryptography." >&2
  echo "  Install python3-securesystemslib and python3-cryptography (scripts/install-deps)." >&2
  exit 1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/aloft-interop.XXXXXX")
status=0

echo "== securesystemslib -> aloft"
if "$python" "$vectors_py" emit "$work/securesystemslib.json"; then
  "$tool" verify "$work/securesystemslib.json" || status=1
else
  echo "run_interop: FAIL: securesystemslib_vectors.py emit" >&2
  status=1
fi

echo "== aloft -> securesystemslib"
# emit exits 1 when its own self-check fails but still writes the vectors: verify them anyway.
if ! "$tool" emit "$work/aloft.json"; then
  echo "run_interop: FAIL: aloft-interop-tool emit" >&2
  status=1
fi
if [[ -s $work/aloft.json ]]; then
  "$python" "$vectors_py" verify "$work/aloft.json" || status=1
fi

if ((status == 0)); then
  rm -rf "$work"
  echo "run_interop: both directions passed"
else
  echo "run_interop: FAIL; vectors kept in $work" >&2
fi
exit "$status"
