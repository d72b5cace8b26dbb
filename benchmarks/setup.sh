#!/usr/bin/env bash
# Create the benchmark venvs beside the repo's .venv:
#   .venv-bench        linli and the peers of bench_access.py (pandana, networkx, scipy, ...)
#   .venv-bench-spopt  spopt 0.8 and PuLP (CBC bundled; HiGHS through highspy) for bench_planning.py
#
# spopt 0.8 requires Python >= 3.12 and .venv-bench runs on the machine's python3 (3.11 here), so
# spopt gets a venv of its own, made with the first Python >= 3.12 found: $PYTHON_SPOPT, python3.12
# or python3.13 on the PATH, or pyenv's.  Without one, spopt 0.7 (the newest release for 3.11) and
# PuLP go into .venv-bench instead and bench_planning.py runs spopt there.
#
# Idempotent: a stamp file per venv records what was installed; an install reruns only when this
# script or pyproject.toml is newer than its stamp.  Usage (from anywhere):  bash benchmarks/setup.sh
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
VENV="${VENV_BENCH:-.venv-bench}"
STAMP="$VENV/.bench-installed"
SPOPT_VENV="${VENV_BENCH_SPOPT:-.venv-bench-spopt}"
SPOPT_STAMP="$SPOPT_VENV/.bench-installed"

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
# spopt's location models build PuLP problems; PuLP 3.3 bundles CBC (PULP_CBC_CMD) and solves with
# HiGHS through highspy (pulp.HiGHS).  PuLP's HiGHS_CMD needs a `highs` executable that no wheel
# installs, so it is not used.  spopt pulls geopandas, libpysal, scikit-learn and friends.
SPOPT_PEERS=(
    "spopt==0.8.*"
    "pulp>=3.3"
    "highspy>=1.10"
    "psutil>=5.9"
)

up_to_date() { [[ -f "$1" && "$1" -nt pyproject.toml && "$1" -nt benchmarks/setup.sh ]]; }

python_312() {
    local candidate
    local pyenv_root="${PYENV_ROOT:-$HOME/.pyenv}"
    for candidate in "${PYTHON_SPOPT:-}" python3.12 python3.13 python3.14 \
        "$pyenv_root"/versions/3.1[2-9]*/bin/python; do
        [[ -n "$candidate" ]] || continue
        if "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1; then
            echo "$candidate"
            return 0
        fi
    done
    return 1
}

SPOPT_PYTHON="$(python_312 || true)"
if [[ -z "$SPOPT_PYTHON" ]]; then
    echo "no Python >= 3.12 found (set PYTHON_SPOPT): spopt 0.7 and PuLP go into $VENV" >&2
    PEERS+=("spopt<0.8" "pulp>=3.3" "highspy>=1.10")
fi

if [[ ! -x "$VENV/bin/python" ]]; then
    "$PYTHON" -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --upgrade pip
fi

if up_to_date "$STAMP"; then
    echo "$VENV is up to date (remove $STAMP to force a reinstall)"
else
    # --only-binary for pandana: its sdist needs a C++ compiler with OpenMP; the wheel does not.
    "$VENV/bin/python" -m pip install --quiet --only-binary=pandana -e . "${PEERS[@]}"

    # Fail here, not half-way through a benchmark, if a peer cannot be imported.
    "$VENV/bin/python" - <<'PY'
import importlib

for name in ("linli", "pandana", "networkx", "scipy", "psutil", "rich", "numba", "highspy"):
    module = importlib.import_module(name)
    print(f"{name:10s} {getattr(module, '__version__', '?')}")
PY
    touch "$STAMP"
fi

if [[ -n "$SPOPT_PYTHON" ]]; then
    if [[ ! -x "$SPOPT_VENV/bin/python" ]]; then
        "$SPOPT_PYTHON" -m venv "$SPOPT_VENV"
        "$SPOPT_VENV/bin/python" -m pip install --quiet --upgrade pip
    fi
    if up_to_date "$SPOPT_STAMP"; then
        echo "$SPOPT_VENV is up to date (remove $SPOPT_STAMP to force a reinstall)"
    else
        "$SPOPT_VENV/bin/python" -m pip install --quiet "${SPOPT_PEERS[@]}"
        "$SPOPT_VENV/bin/python" - <<'PY'
import importlib.metadata
import sys

import pulp

print(f"python     {sys.version.split()[0]}")
for name in ("spopt", "pulp", "highspy", "scipy"):
    print(f"{name:10s} {importlib.metadata.version(name)}")
solvers = pulp.listSolvers(onlyAvailable=True)
print(f"PuLP solvers: {', '.join(solvers)}")
missing = {"PULP_CBC_CMD", "HiGHS"} - set(solvers)
if missing:
    sys.exit(f"PuLP cannot run {', '.join(sorted(missing))}")
PY
        touch "$SPOPT_STAMP"
    fi
fi
