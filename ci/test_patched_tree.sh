#!/usr/bin/env bash
# Runs the series' new test files against the patched JAX source tree.
#
#   ci/test_patched_tree.sh [--skip-if-offline] [PYTEST_ARGS...]
#
# Fetches JAX's sdist at the series' base version (cached in .jax_src/),
# applies patches/ to a copy of it in a temporary directory, and runs the
# tests/*_test.py files that the series adds with pytest, with the patched
# tree first on PYTHONPATH (so its `jax` shadows the installed one; jaxlib
# comes from site-packages) and `jax_patch` made unimportable, from a
# temporary directory. Exits non-zero if a test fails or none ran, or if the
# sdist cannot be downloaded (with --skip-if-offline, as Bazel runs it:
# prints SKIPPED and exits 0).
#
# Environment: JAX_NUM_GENERATED_CASES (default 3), PYTHON (default python3),
# KEEP_PATCHED_TREE=1 keeps the temporary directory.
set -euo pipefail

# Resolve symlinks: Bazel runs this from its runfiles tree.
repo_root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
python="${PYTHON:-python3}"
skip_if_offline=
if [[ "${1:-}" == "--skip-if-offline" ]]; then
  skip_if_offline=1
  shift
fi
version="$("$python" "$repo_root/ci/make_patches.py" --base-version)"
if ! base="$(JAX_VERSION="$version" "$repo_root/ci/fetch_jax_source.sh" |
             tail -n 1)"; then
  if [[ -n "$skip_if_offline" ]]; then
    echo "SKIPPED: could not download the jax $version sdist (offline?)" >&2
    exit 0
  fi
  exit 1
fi

tmp="$(mktemp -d)"
if [[ -z "${KEEP_PATCHED_TREE:-}" ]]; then
  trap 'rm -rf "$tmp"' EXIT
else
  echo "keeping $tmp" >&2
fi
tree="$tmp/jax"
"$repo_root/ci/apply_patches.sh" "$base" "$tree"

mapfile -t tests < <(sed -n 's|^+++ b/\(tests/.*_test\.py\)$|\1|p' \
  "$repo_root"/patches/*.patch | sort -u)
if [[ ${#tests[@]} -eq 0 ]]; then
  echo "error: the series adds no tests/*_test.py files" >&2
  exit 1
fi

"$repo_root/ci/pytest_in_tree.sh" "$tree" --rootdir="$tree" \
  "${tests[@]/#/$tree/}" "$@"
