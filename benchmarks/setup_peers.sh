#!/usr/bin/env bash
# Create benchmarks/.venv-peers: the peer tools Vigil is measured against, in their own virtualenv
# because their pins (pandas, numpy, protobuf) conflict with Vigil's. Idempotent; rerun to update.
#   bash benchmarks/setup_peers.sh
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VENV="$HERE/.venv-peers"
PYTHON="${PYTHON:-$(command -v python3.11 || command -v python3)}"

if [[ ! -x "$VENV/bin/python" ]]; then
    "$PYTHON" -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --upgrade pip
fi
# One resolve for all peers, so they agree on pandas/numpy/pyarrow. whylogs 1.6 still uses
# `np.unicode_` (gone in NumPy 2), so the peers run on NumPy 1.26 and pandas 2. pyspark is for
# whylogs on Spark (bench_scale.py): the same Spark version as Vigil's venv, so both run one Spark.
"$VENV/bin/python" -m pip install --quiet \
    "numpy>=1.26,<2" \
    "pandas>=2.2,<3" \
    "whylogs==1.6.*" \
    "evidently==0.7.*" \
    "nannyml" \
    "mlflow>=3,<4" \
    "psycopg2-binary>=2.9" \
    "pyarrow>=15" \
    "psutil>=5.9" \
    "pyspark==4.3.*"
"$VENV/bin/python" - <<'PY'
from importlib.metadata import version
for name in ("whylogs", "evidently", "nannyml", "mlflow", "pandas", "numpy", "pyarrow", "pyspark"):
    print(f"{name:10s} {version(name)}")
PY
