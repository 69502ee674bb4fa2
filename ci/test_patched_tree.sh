#!/usr/bin/env bash
# Runs the stack's new tests against the patched jax sdist tree.
#
#   ci/test_patched_tree.sh [--skip-if-offline] [--own] [PYTEST_ARGS...]
#
# Fetches JAX's sdist at the stack's base version (cached in .jax_src/) and
# runs ci/test_stack.sh on it: by default all new tests after the last PR;
# with --own each PR's own tests right after it is applied. The tests run
# against the patched tree with `jax_patch` unimportable. If the sdist
# cannot be downloaded: exit 1, or with --skip-if-offline (as Bazel runs
# it) print SKIPPED and exit 0.
set -euo pipefail

repo_root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
python="${PYTHON:-python3}"
skip_if_offline=
mode=--last
while [[ $# -gt 0 ]]; do
  case "$1" in
    --skip-if-offline) skip_if_offline=1; shift ;;
    --own) mode=--own; shift ;;
    *) break ;;
  esac
done
version="$("$python" "$repo_root/ci/make_patches.py" --base-version)"
if ! base="$(JAX_VERSION="$version" "$repo_root/ci/fetch_jax_source.sh" |
             tail -n 1)"; then
  if [[ -n "$skip_if_offline" ]]; then
    echo "SKIPPED: could not download the jax $version sdist (offline?)" >&2
    exit 0
  fi
  exit 1
fi
exec "$repo_root/ci/test_stack.sh" "$mode" "$base" "$@"
