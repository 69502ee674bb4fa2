#!/usr/bin/env bash
# Runs JAX's own eigh and linalg test suites against the patched tree.
#
#   ci/run_peer_tests.sh JAX_CHECKOUT [PYTEST_ARGS...]
#
# JAX_CHECKOUT: JAX's source at tag jax-v0.10.2 (the sdist on PyPI has no
# tests/), e.g.
#   git clone --depth 1 --branch jax-v0.10.2 https://github.com/jax-ml/jax
# or `git worktree add` / `git archive jax-v0.10.2` of a clone. Never commit it.
# The series is applied to a copy of it (that also checks that it applies to
# the tag), and tests/eigh_test.py and tests/linalg_test.py run there with
# JAX's own pytest configuration and without jax_patch. A session-time
# check, not part of CI: stock 0.10.2 gives eigh_test 83 passed, 11 skipped
# (about 2 minutes) and linalg_test 912 passed, 23 skipped (about 15 minutes
# on 2 cores). JAX_NUM_GENERATED_CASES defaults to JAX's default (10).
set -euo pipefail

# Resolve symlinks: Bazel runs this from its runfiles tree.
repo_root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
checkout="$(cd "${1:?usage: $0 JAX_CHECKOUT [PYTEST_ARGS...]}" && pwd)"
shift
for t in eigh_test linalg_test; do
  if [[ ! -f "$checkout/tests/$t.py" ]]; then
    echo "error: $checkout/tests/$t.py not found; pass a checkout of tag" \
      "jax-v0.10.2" >&2
    exit 1
  fi
done

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
tree="$tmp/jax"
"$repo_root/ci/apply_patches.sh" "$checkout" "$tree"

export JAX_NUM_GENERATED_CASES="${JAX_NUM_GENERATED_CASES:-10}"
status=0
for t in eigh_test linalg_test; do
  echo "=== tests/$t.py against the patched tree" >&2
  start=$SECONDS
  "$repo_root/ci/pytest_in_tree.sh" "$tree" -c "$tree/pyproject.toml" \
    --rootdir="$tree" -q "$tree/tests/$t.py" "$@" || status=$?
  echo "=== tests/$t.py: $((SECONDS - start)) s" >&2
done
exit $status
