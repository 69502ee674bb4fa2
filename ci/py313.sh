#!/usr/bin/env bash
# Runs a command under Python 3.13 with a chosen JAX release, on a machine
# whose own Python is older (JAX 0.11 and later publish wheels for Python
# 3.12+ only).
#
#   ci/py313.sh --jax VERSION [--pip "PKG ..."] -- CMD [ARG...]
#
#   ci/py313.sh --jax 0.12.1 -- python -m pytest -q tests/test_compat.py
#   ci/py313.sh --jax 0.11.0 -- env PYTHONPATH=/path/to/jax python -c \
#     'import jax; print(jax.__file__)'
#
# How: a Debian trixie root file system (its python3 is 3.13), made once with
# debootstrap from Debian's packages (about 2 minutes, 400 MB) under
# $PY313_ROOT (default /opt/jax_patch-py313), entered with chroot inside a
# private mount namespace (unshare -m): /proc, /sys, /dev, /tmp, this
# repository and the current folder are bind-mounted at the same paths for
# that one command and vanish with it. One venv per JAX version
# (/venvs/jax-VERSION inside) gets jax==VERSION and jaxlib==VERSION, then
# this repository with its test extras (`pip install -e '.[test]'`, with
# dependencies, as a user would) and ruff; the script fails if that install
# changed the JAX version. JAX_*, XLA_*, PYTEST_*, PYTHONPATH,
# PATCHED_JAX_TREE and CI pass through. Needs root (chroot, mount), as CI
# has. To remove the root: rm -rf --one-file-system "$PY313_ROOT".
set -euo pipefail
trap 'echo "py313.sh: failed (line $LINENO)" >&2' ERR

repo_root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
root="${PY313_ROOT:-/opt/jax_patch-py313}"
jax_version="" extra=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --jax) jax_version="$2"; shift 2 ;;
    --pip) extra="$2"; shift 2 ;;
    --) shift; break ;;
    *) break ;;
  esac
done
if [[ $# -eq 0 || -z "$jax_version" ]]; then
  sed -n '2,10p' "$0" >&2
  exit 2
fi
if [[ "$(id -u)" != 0 ]]; then
  echo "py313.sh: needs root (chroot and mount)" >&2
  exit 1
fi
here="$PWD"

# in_root [ENV=VALUE ...] -- CMD...: CMD inside the root, in the current
# folder, in a private mount namespace.
in_root() {
  local envs=()
  while [[ "$1" != -- ]]; do envs+=("$1"); shift; done
  shift
  unshare --mount --propagation private bash -c '
    root=$1 repo=$2 here=$3; shift 3
    for d in /proc /sys /dev /tmp "$repo" "$here"; do
      mkdir -p "$root$d" && mount --rbind "$d" "$root$d"
    done
    exec chroot "$root" "$@"' _ "$root" "$repo_root" "$here" \
    /usr/bin/env -i HOME=/root LANG=C.UTF-8 "${envs[@]}" \
    bash -c 'cd "$1" && shift && exec "$@"' _ "$here" "$@"
}

mkdir -p "$(dirname "$root")"
exec 9>"$root.lock"
flock 9
if [[ ! -x "$root/usr/bin/python3.13" ]]; then
  echo "py313.sh: making a Debian trixie root in $root (once, ~2 min)" >&2
  if ! command -v debootstrap >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap \
      >/dev/null
  fi
  mirror="$(awk '/^URIs:/ {print $2; exit}' \
    /etc/apt/sources.list.d/*.sources 2>/dev/null || true)"
  [[ -n "$mirror" ]] || mirror="$(awk '/^deb / {print $2; exit}' \
    /etc/apt/sources.list 2>/dev/null || true)"
  [[ -n "$mirror" ]] || mirror=http://deb.debian.org/debian
  rm -rf --one-file-system "$root"
  if ! debootstrap --variant=minbase \
      --include=python3,python3-venv,git,ca-certificates,patch \
      trixie "$root" "$mirror" >"$root.debootstrap.log" 2>&1; then
    echo "py313.sh: debootstrap failed; see $root.debootstrap.log" >&2
    exit 1
  fi
fi
# This machine's name servers and certificates (pip reaches PyPI with them).
cp /etc/resolv.conf "$root/etc/resolv.conf"
cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"

base=(PATH=/usr/bin:/bin PIP_DISABLE_PIP_VERSION_CHECK=1)
venv="/venvs/jax-$jax_version"
pip=("$venv/bin/python" -m pip install -q)
jax_of_venv() {
  in_root "${base[@]}" -- "$venv/bin/python" -c \
    'import importlib.metadata as m; print(m.version("jax"), m.version("jaxlib"))'
}
if [[ ! -f "$root$venv/.ready" ]]; then
  echo "py313.sh: making $venv (jax $jax_version)" >&2
  rm -rf --one-file-system "${root:?}$venv"
  in_root "${base[@]}" -- python3 -m venv "$venv"
  in_root "${base[@]}" -- "${pip[@]}" "jax==$jax_version" \
    "jaxlib==$jax_version" ruff >&2
  # As a user would: the project and its test extras, with dependencies.
  in_root "${base[@]}" -- "${pip[@]}" -e "$repo_root[test]" >&2
  if [[ "$(jax_of_venv)" != "$jax_version $jax_version" ]]; then
    echo "py313.sh: pip install -e '.[test]' changed jax $jax_version to" \
      "$(jax_of_venv) (jax, jaxlib)" >&2
    exit 1
  fi
  echo "$repo_root" > "$root$venv/.ready"
elif [[ "$(cat "$root$venv/.ready")" != "$repo_root" ]]; then
  in_root "${base[@]}" -- "${pip[@]}" --no-deps -e "$repo_root" >&2
  echo "$repo_root" > "$root$venv/.ready"
fi
[[ -z "$extra" ]] || in_root "${base[@]}" -- "${pip[@]}" $extra >&2
flock -u 9

envs=("PATH=$venv/bin:/usr/bin:/bin" "VIRTUAL_ENV=$venv")
while IFS='=' read -r k v; do
  case "$k" in
    JAX_*|XLA_*|PYTEST_*|PYTHONPATH|PATCHED_JAX_TREE|CI) envs+=("$k=$v") ;;
  esac
done < <(env)
trap - ERR
in_root "${envs[@]}" -- "$@"
