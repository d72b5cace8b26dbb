#!/usr/bin/env bash
# Create .venv-bench (beside the repo's .venv) with linli and its peers for benchmarks/bench_access.py.
#
# Idempotent: a stamp file records what was installed; the install reruns only when this script or
# pyproject.toml is newer than the stamp.  Usage (from anywhere):  bash benchmarks/setup.sh
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
VENV="${VENV_BENCH:-.venv-bench}"
STAMP="$VENV/.bench-installed"

# Peers, pinned where the result depends on the version.  pandana 0.8 ships manylinux wheels for
# CPython 3.10-3.14 and accepts numpy 2 / pandas >= 2.2; it pulls scikit-learn (KDTree) and tables.
PEERS=(
    "pandana==0.8"
    "networkx>=3.2"
    "scipy>=1.11"
    "psutil>=5.9"
    "rich>=13"
    "threadpoolctl>=3"
)

if [[ ! -x "$VENV/bin/python" ]]; then
    "$PYTHON" -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --upgrade pip
fi

if [[ -f "$STAMP" && "$STAMP" -nt pyproject.toml && "$STAMP" -nt benchmarks/setup.sh ]]; then
    echo "$VENV is up to date (remove $STAMP to force a reinstall)"
    exit 0
fi

# --only-binary for pandana: its sdist needs a C++ compiler with OpenMP; the wheel does not.
"$VENV/bin/python" -m pip install --quiet --only-binary=pandana -e . "${PEERS[@]}"

# Fail here, not half-way through a benchmark, if a peer cannot be imported.
"$VENV/bin/python" - <<'PY'
import importlib

for name in ("linli", "pandana", "networkx", "scipy", "psutil", "rich", "numba"):
    module = importlib.import_module(name)
    print(f"{name:10s} {getattr(module, '__version__', '?')}")
PY
touch "$STAMP"
