#!/usr/bin/env bash
# Fetches JAX's source at exactly the installed release, without GitHub.
#
#   ci/fetch_jax_source.sh [DEST]        # DEST defaults to .jax_src/jax-<ver>
#
# Downloads the sdist from PyPI (`pip download --no-binary :all:`), unpacks it
# into DEST and commits it into a fresh git repository there, with fixed
# identities and dates so the commit is the same on every machine. The patch
# series in patches/ is generated and applied against that commit.
#
# The sdist has the same `jax/` tree as the wheel and as tag jax-v<ver>, but
# no `tests/` folder; our series adds its tests as new files, so it applies to
# both. If DEST already holds that commit (tag jax-<ver>), nothing is
# downloaded. Prints DEST on the last line of stdout.
#
# JAX_VERSION overrides the version (default: the installed jax's).
set -euo pipefail

# Resolve symlinks: Bazel runs this from its runfiles tree.
repo_root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
python="${PYTHON:-python3}"

version="${JAX_VERSION:-$(cd / && "$python" -c \
  'import importlib.metadata as m; print(m.version("jax"))')}"
dest="${1:-$repo_root/.jax_src/jax-$version}"

export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
export GIT_AUTHOR_NAME="jax_patch" GIT_AUTHOR_EMAIL="jax_patch@localhost"
export GIT_COMMITTER_NAME="jax_patch" GIT_COMMITTER_EMAIL="jax_patch@localhost"
export GIT_AUTHOR_DATE="2000-01-01T00:00:00+0000"
export GIT_COMMITTER_DATE="$GIT_AUTHOR_DATE"

subject="jax $version (sdist)"
is_fetched() {
  [[ "$(git -C "$dest" log -1 --format=%s "jax-$version" 2>/dev/null)" \
     == "$subject" ]]
}
# The fetched repository is read-only from here on: scripts apply patches in
# their own clones of it. Concurrent callers (Bazel runs tests in parallel)
# wait for one another on a lock next to DEST.
mkdir -p "$(dirname "$dest")"
exec 9>"$dest.lock"
flock 9
if is_fetched; then
  echo "$dest"
  exit 0
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
# cd / so that a `jax` folder in the cwd cannot shadow anything. The sdist is
# one file for every Python; --python-version only keeps pip from skipping a
# release that needs a newer Python than this one (0.11 and later need 3.12).
(cd / && "$python" -m pip download --quiet --no-deps --no-binary :all: \
  --python-version 3.13 --dest "$tmp" "jax==$version") >&2
sdist="$(ls "$tmp"/jax-*.tar.gz | head -n 1)"

rm -rf "$dest"
mkdir -p "$dest"
tar -xzf "$sdist" -C "$dest" --strip-components=1
git -C "$dest" init -q
git -C "$dest" config core.autocrlf false
git -C "$dest" add -A
git -C "$dest" commit -q --no-gpg-sign -m "$subject"
git -C "$dest" tag "jax-$version"
echo "$dest"
