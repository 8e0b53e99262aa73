#!/usr/bin/env bash
# Installs the Python side of the project, at pinned versions:
# * the packages of benches/reference/ (numpy, scikit-learn) for the
#   reference scripts make_datasets.py and datasets.py, and those of
#   benches/emlearn/ (emlearn) for its comparison;
# * maturin, pytest and the tests' packages (python/requirements.txt:
#   safetensors, dask/distributed, matplotlib), then builds the `dam`
#   Python package (python/, a PyO3 extension) as a wheel with
#   `maturin build --release` and pip-installs it.
# Idempotent: pip leaves packages already at the pinned versions alone, and
# the wheel is rebuilt (cargo only recompiles what changed) and
# reinstalled. Test with `pytest python/tests` (`.ci/run` does both). Not
# needed by the `dam` program.
#
#   bash scripts/setup-python.sh            # uses python3
#   PYTHON=python3.11 bash scripts/setup-python.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
pip_install() {
    "$PYTHON" -m pip install --quiet --disable-pip-version-check --root-user-action=ignore "$@"
}
pip_install -r benches/reference/requirements.txt -r benches/emlearn/requirements.txt \
    -r python/requirements.txt
"$PYTHON" -c 'import numpy, sklearn, emlearn; print(f"numpy {numpy.__version__}, scikit-learn {sklearn.__version__}, emlearn {emlearn.__version__}")'

# The wheel: abi3, one file for every CPython from 3.9.
wheels=python/target/wheels
rm -f "$wheels"/dam-*.whl
(cd python && nice -n 10 "$PYTHON" -m maturin build --release --quiet --interpreter "$PYTHON" --out target/wheels)
wheel=$(ls "$wheels"/dam-*.whl)
pip_install --force-reinstall --no-deps "$wheel"
"$PYTHON" -c 'import dam; print(f"dam: {dam.__file__} ({dam.Classifier.__name__})")'
echo "installed $wheel; test with: $PYTHON -m pytest python/tests"
