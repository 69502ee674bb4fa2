# Copyright 2026 The jax_patch Authors.
#
# Licensed under the Apache License, Version 2.0 (the "License");
# you may not use this file except in compliance with the License.
# You may obtain a copy of the License at
#
#     https://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS,
# WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
# See the License for the specific language governing permissions and
# limitations under the License.

"""patches/ is up to date, applies to JAX's source and stands alone.

Needs the JAX sdist (ci/fetch_jax_source.sh, cached in .jax_src/); the tests
are skipped, with the reason, only when it cannot be downloaded.
"""

import os
import pathlib
import subprocess
import sys

import pytest

# realpath: Bazel runs this file from its runfiles tree.
ROOT = pathlib.Path(os.path.realpath(__file__)).parent.parent
CI = ROOT / "ci"
GIT_ENV = dict(os.environ, GIT_CONFIG_NOSYSTEM="1",
               GIT_CONFIG_GLOBAL=os.devnull)


def _run(*cmd, env=None, **kw):
  return subprocess.run(cmd, cwd=ROOT, text=True, capture_output=True,
                        env=env or GIT_ENV, **kw)


@pytest.fixture(scope="module")
def base_tree() -> pathlib.Path:
  version = _run(sys.executable, str(CI / "make_patches.py"),
                 "--base-version", check=True).stdout.strip()
  fetch = _run("bash", str(CI / "fetch_jax_source.sh"),
               env=dict(GIT_ENV, JAX_VERSION=version))
  if fetch.returncode != 0:
    pytest.skip(f"cannot download the jax {version} sdist from PyPI "
                f"(offline?):\n{fetch.stderr[-2000:]}")
  return pathlib.Path(fetch.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def patched_tree(base_tree, tmp_path_factory) -> pathlib.Path:
  tree = tmp_path_factory.mktemp("patched") / "jax"
  r = _run("bash", str(CI / "apply_patches.sh"), str(base_tree), str(tree))
  assert r.returncode == 0, r.stderr
  return tree


def _series() -> list[str]:
  series = ROOT / "patches" / "series"
  assert series.exists(), "patches/series is missing; run ci/make_patches.py"
  return [l for l in series.read_text().split() if l]


def test_series_lists_the_patch_files():
  names = _series()
  assert names, "patches/series is empty"
  assert sorted(names) == names
  on_disk = sorted(p.name for p in (ROOT / "patches").glob("*.patch"))
  assert names == on_disk


def test_patches_are_up_to_date(base_tree):
  r = _run(sys.executable, str(CI / "make_patches.py"), "--check", "-q",
           "--base", str(base_tree))
  assert r.returncode == 0, (
      "patches/ is stale; run `python ci/make_patches.py`:\n"
      + r.stdout[-4000:] + r.stderr[-2000:])


def test_patches_apply_with_git_apply_check(base_tree, tmp_path):
  # In a repository of its own: run inside another repository on a subfolder,
  # `git apply` skips every file and exits 0.
  tree = tmp_path / "jax"
  subprocess.run(["git", "clone", "-q", str(base_tree), str(tree)],
                 check=True, env=GIT_ENV)
  for name in _series():
    patch = ROOT / "patches" / name
    r = subprocess.run(["git", "apply", "--check", "--verbose", str(patch)],
                       cwd=tree, text=True, capture_output=True, env=GIT_ENV)
    assert r.returncode == 0, f"{name} does not apply:\n{r.stderr}"
    assert "Skipped patch" not in r.stderr, r.stderr
    # Apply for real, so that the next patch is checked on top of this one.
    subprocess.run(["git", "apply", str(patch)], cwd=tree, check=True,
                   env=GIT_ENV)


def test_patched_tree_does_not_mention_jax_patch(patched_tree):
  changed = subprocess.run(
      ["git", "status", "--porcelain", "--untracked-files=all"],
      cwd=patched_tree, text=True, capture_output=True, check=True,
      env=GIT_ENV).stdout.splitlines()
  files = [patched_tree / l[3:] for l in changed]
  assert files
  offenders = [str(f.relative_to(patched_tree)) for f in files
               if f.exists() and "jax_patch" in f.read_text()]
  assert not offenders, f"patched files mention jax_patch: {offenders}"


def test_patched_tree_has_no_separate_kernel_module(patched_tree):
  assert not (patched_tree / "jax/_src/lax/sylvester_triangular.py").exists()
  for f in (patched_tree / "jax").rglob("*.py"):
    text = f.read_text()
    assert "sylvester_triangular import" not in text, f


def test_patched_tree_compiles(patched_tree):
  for rel in ("jax/_src/lax/linalg.py", "jax/_src/scipy/linalg.py",
              "jax/lax/linalg.py", "jax/scipy/linalg.py"):
    f = patched_tree / rel
    compile(f.read_text(), str(f), "exec")
