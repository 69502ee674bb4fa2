#!/usr/bin/env bash
# Makes a JAX source tree with tests from a clone of jax-ml/jax at a commit.
#
#   ci/jax_source_from_git.sh GIT_DIR COMMIT [DEST]
#
# GIT_DIR: a clone (bare or not) of jax-ml/jax that has COMMIT. DEST
# (default .jax_src/jax-main-<commit>) gets the paths the stack and JAX's
# tests need (jax/, tests/, CHANGELOG.md, docs/jax.lax.rst,
# docs/jax.scipy.rst, conftest.py, pyproject.toml, setup.py; `git archive`
# of only these, since partial clones may lack other blobs),
# committed into a fresh repository with fixed identities and dates, tagged
# jax-<commit>, as ci/fetch_jax_source.sh does for an sdist. Prints DEST on
# the last line of stdout.
#
#   ci/jax_source_from_git.sh /path/to/jax.git cec06d116c05f0d52adfceee3d3b730fdbcb0ce5
set -euo pipefail

repo_root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
git_dir="$1"
commit="$(git -C "$git_dir" rev-parse --verify "$2^{commit}")"
dest="${3:-$repo_root/.jax_src/jax-main-${commit:0:7}}"

export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
export GIT_AUTHOR_NAME="jax_patch" GIT_AUTHOR_EMAIL="jax_patch@localhost"
export GIT_COMMITTER_NAME="jax_patch" GIT_COMMITTER_EMAIL="jax_patch@localhost"
export GIT_AUTHOR_DATE="2000-01-01T00:00:00+0000"
export GIT_COMMITTER_DATE="$GIT_AUTHOR_DATE"

subject="jax-ml/jax $commit (with CHANGELOG.md and API docs)"
if [[ "$(git -C "$dest" log -1 --format=%s 2>/dev/null)" == "$subject" ]]; then
  echo "$dest"
  exit 0
fi
rm -rf "$dest"
mkdir -p "$dest"
git -C "$git_dir" archive "$commit" jax tests conftest.py pyproject.toml \
  CHANGELOG.md docs/jax.lax.rst docs/jax.scipy.rst \
  setup.py | tar -x -C "$dest"
git -C "$dest" init -q
git -C "$dest" config core.autocrlf false
git -C "$dest" add -A
git -C "$dest" commit -q --no-gpg-sign -m "$subject"
git -C "$dest" tag "jax-${commit:0:7}"
echo "$dest"
