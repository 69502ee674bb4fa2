#!/usr/bin/env bash
# The stack on a JAX newer than its base: regenerate it against BASE, apply
# it with `git am`, and test the patched tree, under Python 3.13.
#
#   ci/test_newest_jax.sh --jax VERSION [--jax-tests SRC] [--each | --own |
#                         --last] BASE [PYTEST_ARGS...]
#
#   ci/test_newest_jax.sh --jax 0.12.1 --jax-tests .jax_src/jax-main-cec06d1 \
#     sdist:0.12.1
#   ci/test_newest_jax.sh --jax 0.11.0 .jax_src/jax-main-cec06d1
#
# BASE: sdist:V, the jax sdist at V (ci/fetch_jax_source.sh; it has no
# tests/), or a JAX source tree that is a git repository (a checkout of
# jax-ml/jax, or ci/jax_source_from_git.sh's copy of one). VERSION: the
# jax/jaxlib release whose jaxlib runs the patched tree (the tree's own jax/
# comes first on PYTHONPATH). --jax-tests SRC: where JAX's eigh_test.py and
# linalg_test.py come from when BASE has no tests/ (ci/test_stack.sh).
# Mode: as ci/test_stack.sh, default --last (after the last PR, JAX's tests
# and every PR's own tests; --own runs each PR's own tests right after it).
#
# Steps, each timed, all under ci/py313.sh (root; Python 3.13):
#  1. python ci/make_patches.py --base BASE --out TMP --lint
#  2. ci/test_stack.sh MODE --series TMP BASE   (x64 off, as JAX's CI;
#     JAX_NUM_GENERATED_CASES defaults to 3)
# Exits non-zero if a step fails or a run collects no test.
set -euo pipefail

repo_root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
jax_version= jax_tests=() mode=--last
while [[ $# -gt 0 ]]; do
  case "$1" in
    --jax) jax_version="$2"; shift 2 ;;
    --jax-tests) jax_tests=(--jax-tests "$(cd "$2" && pwd)"); shift 2 ;;
    --each|--own|--last) mode="$1"; shift ;;
    *) break ;;
  esac
done
if [[ $# -eq 0 || -z "$jax_version" ]]; then
  sed -n '2,10p' "$0" >&2
  exit 2
fi
base="$1"
shift
if [[ "$base" == sdist:* ]]; then
  base="$(JAX_VERSION="${base#sdist:}" "$repo_root/ci/fetch_jax_source.sh" |
          tail -n 1)"
fi
base="$(cd "$base" && pwd)"
py313=("$repo_root/ci/py313.sh" --jax "$jax_version" --)

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
start=$SECONDS
echo "== base $base ($(git -C "$base" log -1 --format='%h %s')), jax" \
  "$jax_version, Python 3.13" >&2
"${py313[@]}" python "$repo_root/ci/make_patches.py" --base "$base" \
  --out "$tmp/patches" --lint
echo "== regenerated $(wc -l < "$tmp/patches/series") patches in" \
  "$((SECONDS - start)) s" >&2
start=$SECONDS
unset PYTHONPATH
"${py313[@]}" "$repo_root/ci/test_stack.sh" "$mode" --series "$tmp/patches" \
  "${jax_tests[@]}" "$base" "$@"
echo "== applied and tested in $((SECONDS - start)) s" >&2
