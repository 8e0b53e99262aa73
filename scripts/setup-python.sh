#!/usr/bin/env bash
# Installs the Python packages of benches/reference/ (numpy, scikit-learn at
# pinned versions) for the reference scripts: make_datasets.py and
# datasets.py; and those of benches/emlearn/ (emlearn) for its
# comparison. Idempotent: pip leaves packages already at the pinned
# versions alone. Not needed by `dam` or by CI.
#
#   bash scripts/setup-python.sh            # uses python3
#   PYTHON=python3.11 bash scripts/setup-python.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
"$PYTHON" -m pip install --quiet --disable-pip-version-check --root-user-action=ignore \
    -r benches/reference/requirements.txt -r benches/emlearn/requirements.txt
"$PYTHON" -c 'import numpy, sklearn, emlearn; print(f"numpy {numpy.__version__}, scikit-learn {sklearn.__version__}, emlearn {emlearn.__version__}")'
