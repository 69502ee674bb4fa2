#!/usr/bin/env bash
# Applies the stack PR by PR with `git am` and runs the tests after each.
#
#   ci/test_stack.sh [--each | --own | --last] [--series DIR] [--jax-tests SRC]
#                    BASE [PYTEST_ARGS...]
#
# BASE: a JAX source tree that is a git repository: the jax-v0.10.2 sdist
# from ci/fetch_jax_source.sh, or a checkout of a JAX tag (with tests/) for
# JAX's own tests. DIR (default patches/) holds NN-name/*.patch folders, as
# written by ci/make_patches.py (also with --base for another JAX).
#
#   --each  after PR k: JAX's tests/eigh_test.py and tests/linalg_test.py
#           (where BASE has them) and the new tests of PRs 1..k
#   --own   after PR k: the test files PR k adds or changes (what CI runs)
#   --last  (default) after the last PR: JAX's tests and all new tests
#
# --jax-tests SRC: a JAX source tree whose tests/eigh_test.py and
# tests/linalg_test.py are committed into the clone of BASE first, for a BASE
# without tests/ (an sdist); the clone's own tests/ win where it has them.
#
# STACK_ONLY="NN ..." (environment): run the tests of those PRs only; all
# PRs are still applied.
#
# Every patch must apply with `git am` exactly (no fuzz, no 3-way merge).
# Prints one line per run with its time; exits non-zero if a patch does not
# apply, a test fails or a run collects no test. JAX_NUM_GENERATED_CASES
# defaults to 3.
set -euo pipefail

repo_root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
mode=last
series="$repo_root/patches"
jax_tests=
while [[ $# -gt 0 ]]; do
  case "$1" in
    --each|--own|--last) mode="${1#--}"; shift ;;
    --series) series="$(cd "$2" && pwd)"; shift 2 ;;
    --jax-tests) jax_tests="$(cd "$2" && pwd)"; shift 2 ;;
    *) break ;;
  esac
done
base="$(cd "$1" && pwd)"
shift

export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
export GIT_COMMITTER_NAME=ci GIT_COMMITTER_EMAIL=ci@localhost
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
tree="$tmp/jax"
git clone -q --no-hardlinks "$base" "$tree"
if [[ -n "$jax_tests" && ! -d "$tree/tests" ]]; then
  mkdir "$tree/tests"
  cp "$jax_tests"/tests/{eigh,linalg}_test.py "$tree/tests/"
  git -C "$tree" add tests
  GIT_AUTHOR_NAME=ci GIT_AUTHOR_EMAIL=ci@localhost git -C "$tree" commit -q \
    --no-gpg-sign -m "JAX's tests from $jax_tests"
  echo "JAX's tests: eigh_test.py and linalg_test.py from $jax_tests" >&2
fi

peer=()
for f in tests/eigh_test.py tests/linalg_test.py; do
  [[ -f "$tree/$f" ]] && peer+=("$f")
done

mapfile -t prs < <(find "$series" -mindepth 1 -maxdepth 1 -type d | sort)
if [[ ${#prs[@]} -eq 0 ]]; then
  echo "error: no PR folders in $series" >&2
  exit 1
fi

run_tests() {  # label, test files (relative to the tree)...
  local label="$1"
  shift
  if [[ $# -eq 0 ]]; then
    echo "error: $label: no tests to run" >&2
    return 1
  fi
  local start=$SECONDS
  "$repo_root/ci/pytest_in_tree.sh" "$tree" --rootdir="$tree" \
    "${@/#/$tree/}" "${pytest_args[@]}"
  echo "== $label: $(( SECONDS - start )) s" >&2
}

pytest_args=("$@")
new_tests=()
for i in "${!prs[@]}"; do
  pr="${prs[$i]}"
  name="$(basename "$pr")"
  before="$(git -C "$tree" rev-parse HEAD)"
  git -C "$tree" am -q "$pr"/*.patch
  echo "applied $name" >&2
  mapfile -t own < <(git -C "$tree" diff --name-only --diff-filter=AM \
    "$before" HEAD -- 'tests/*_test.py')
  new_tests+=("${own[@]}")
  if [[ -n "${STACK_ONLY:-}" && " $STACK_ONLY " != *" ${name%%-*} "* ]]; then
    continue  # STACK_ONLY="03 04": test only the PRs with these numbers.
  fi
  case "$mode" in
    own) run_tests "$name (own tests)" "${own[@]}" ;;
    each) run_tests "$name (JAX's + PRs 1..$((i + 1)))" \
            "${peer[@]}" "${new_tests[@]}" ;;
  esac
done
if [[ "$mode" == last ]]; then
  run_tests "all PRs" "${peer[@]}" "${new_tests[@]}"
fi
