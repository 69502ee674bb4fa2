#!/usr/bin/env bash
# Runs pytest against a (patched) JAX source tree, without jax_patch.
#
#   ci/pytest_in_tree.sh TREE [PYTEST_ARGS...]
#
# TREE goes first on PYTHONPATH, so `import jax` gets its jax/ package (jaxlib
# comes from site-packages). pytest runs from a temporary directory with a
# plugin that makes `import jax_patch` fail and checks where jax came from.
# The hypothesis pytest plugin is off: under JAX's filterwarnings = error
# its teardown warnings become INTERNALERRORs. JAX_NUM_GENERATED_CASES
# defaults to 3.
set -euo pipefail

tree="$(cd "$1" && pwd)"
shift
python="${PYTHON:-python3}"
run="$(mktemp -d)"
trap 'rm -rf "$run"' EXIT
cat > "$run/_no_jax_patch.py" <<'PY'
"""pytest plugin: tests run against the patched tree, never jax_patch."""
import os
import sys

sys.modules["jax_patch"] = None  # `import jax_patch` raises ImportError.

import jax  # noqa: E402

_tree = os.environ["PATCHED_JAX_TREE"]
if not os.path.realpath(jax.__file__).startswith(os.path.realpath(_tree)):
  raise RuntimeError(f"jax comes from {jax.__file__}, not from {_tree}")

# The sharding tests need 4 CPU devices, asked for before the first test
# module initializes the backend (as upstream_tests/conftest.py does).
from jax._src import test_util as jtu  # noqa: E402

jtu.request_cpu_devices(4)


def pytest_report_header(config):
  return f"jax {jax.__version__} from {os.path.dirname(jax.__file__)}"
PY
cd "$run"
PATCHED_JAX_TREE="$tree" \
PYTHONPATH="$tree:$run${PYTHONPATH:+:$PYTHONPATH}" \
JAX_NUM_GENERATED_CASES="${JAX_NUM_GENERATED_CASES:-3}" \
  "$python" -m pytest -p _no_jax_patch -p no:cacheprovider \
  -p no:hypothesispytest \
  --confcutdir="$tree" "$@"
