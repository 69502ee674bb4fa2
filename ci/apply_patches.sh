#!/usr/bin/env bash
# Applies patches/series to a copy of a JAX source tree.
#
#   ci/apply_patches.sh SRC DEST
#
# SRC: a JAX source tree, e.g. from ci/fetch_jax_source.sh or a checkout of
# tag jax-v0.10.2. DEST (replaced) becomes a git repository of its own, so that
# `git apply` really applies: run inside another repository on a subfolder,
# it prints "Skipped patch" and exits 0 without changing anything.
set -euo pipefail

# Resolve symlinks: Bazel runs this from its runfiles tree.
repo_root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
src="$(cd "$1" && pwd)"
dest="$2"
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null

rm -rf "$dest"
toplevel="$(git -C "$src" rev-parse --show-toplevel 2>/dev/null || true)"
if [[ -d "$src/.git" && "$toplevel" == "$src" ]]; then
  git clone -q --no-hardlinks "$src" "$dest"
elif [[ -f "$src/.git" && "$toplevel" == "$src" ]]; then
  # A `git worktree`: export its committed tree.
  mkdir -p "$dest"
  git -C "$src" archive --format=tar HEAD | tar -x -C "$dest"
  git -C "$dest" init -q
else
  # A plain folder (possibly ignored inside another repository).
  mkdir -p "$dest"
  cp -a "$src/." "$dest/"
  git -C "$dest" init -q
fi

series="$repo_root/patches/series"
if [[ ! -s "$series" ]]; then
  echo "error: $series is missing or empty; run python ci/make_patches.py" >&2
  exit 1
fi
while read -r patch; do
  [[ -z "$patch" || "$patch" == \#* ]] && continue
  git -C "$dest" apply --whitespace=nowarn "$repo_root/patches/$patch"
  echo "applied $patch" >&2
done < "$series"
if [[ -z "$(git -C "$dest" status --porcelain)" ]]; then
  echo "error: applying the series changed nothing in $dest" >&2
  exit 1
fi
