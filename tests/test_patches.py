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

"""patches/ is up to date, applies PR by PR, and agrees with install().

Needs the JAX sdist (ci/fetch_jax_source.sh, cached in .jax_src/); the tests
that need it are skipped, with the reason, only when it cannot be
downloaded.
"""

import ast
import importlib
import os
import pathlib
import subprocess
import sys

import pytest

# realpath: Bazel runs this file from its runfiles tree.
ROOT = pathlib.Path(os.path.realpath(__file__)).parent.parent
CI = ROOT / "ci"
PATCHES = ROOT / "patches"
GIT_ENV = dict(os.environ, GIT_CONFIG_NOSYSTEM="1",
               GIT_CONFIG_GLOBAL=os.devnull, GIT_COMMITTER_NAME="t",
               GIT_COMMITTER_EMAIL="t@localhost")
sys.path.insert(0, str(CI))
import make_patches  # noqa: E402  pylint: disable=g-import-not-at-top
import stack  # noqa: E402  pylint: disable=g-import-not-at-top


def _run(*cmd, env=None, cwd=ROOT, **kw):
  return subprocess.run(cmd, cwd=cwd, text=True, capture_output=True,
                        env=env or GIT_ENV, **kw)


@pytest.fixture(scope="module")
def base_tree() -> pathlib.Path:
  fetch = _run("bash", str(CI / "fetch_jax_source.sh"),
               env=dict(GIT_ENV, JAX_VERSION=stack.BASE_VERSION))
  if fetch.returncode != 0:
    pytest.skip(f"cannot download the jax {stack.BASE_VERSION} sdist "
                f"(offline?):\n{fetch.stderr[-2000:]}")
  return pathlib.Path(fetch.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def patched_tree(base_tree, tmp_path_factory) -> pathlib.Path:
  """The base with every PR applied by `git am`, one commit per PR."""
  tree = tmp_path_factory.mktemp("patched") / "jax"
  _run("git", "clone", "-q", str(base_tree), str(tree), check=True)
  for pr in stack.STACK:
    patches = sorted((PATCHES / pr.slug).glob("*.patch"))
    r = _run("git", "am", *map(str, patches), cwd=tree)
    assert r.returncode == 0, f"{pr.slug} does not apply:\n{r.stderr}"
  return tree


def test_series_lists_every_pr_in_order():
  series = (PATCHES / "series").read_text().split()
  folders = [name.split("/")[0] for name in series]
  assert folders == sorted(folders)
  assert sorted(set(folders)) == [pr.slug for pr in stack.STACK]
  on_disk = sorted(str(p.relative_to(PATCHES))
                   for p in PATCHES.glob("*/*.patch"))
  assert series == on_disk
  for pr in stack.STACK:
    assert (PATCHES / pr.slug / "PR.md").read_text() == (
        CI / "pr" / f"{pr.slug}.md").read_text()


def test_patches_are_up_to_date(base_tree):
  r = _run(sys.executable, str(CI / "make_patches.py"), "--check", "-q",
           "--base", str(base_tree))
  assert r.returncode == 0, (
      "patches/ is stale; run `python ci/make_patches.py`:\n"
      + r.stdout[-4000:] + r.stderr[-2000:])


def test_each_pr_is_one_commit_with_its_tests(patched_tree):
  log = _run("git", "log", "--format=%s", "--reverse",
             cwd=patched_tree).stdout.splitlines()[1:]
  assert len(log) == len(stack.STACK)
  n = len(stack.STACK)
  for i, pr in enumerate(stack.STACK):
    added = _run("git", "diff", "--name-only", "--diff-filter=A",
                 f"HEAD~{n - i}", f"HEAD~{n - i - 1}",
                 cwd=patched_tree).stdout.split()
    assert [f"tests/{t}" for t in pr.tests] == [
        f for f in added if f.startswith("tests/")], pr.slug
    assert pr.tests, f"{pr.slug} carries no tests"


def test_first_pr_is_small():
  # The first PR is the smallest change that fixes #669: sylvester_solve_p
  # with diagonal factors and the eigh rule on it, tests included, within
  # the 800 changed lines that every PR of the stack should keep to.
  patch = next((PATCHES / stack.STACK[0].slug).glob("*.patch")).read_text()
  changed = [l for l in patch.splitlines()
             if l[:1] in "+-" and not l.startswith(("+++", "---"))]
  assert len(changed) <= 800, len(changed)


def test_patched_tree_does_not_mention_jax_patch(patched_tree):
  changed = _run("git", "diff", "--name-only", "HEAD~%d" % len(stack.STACK),
                 cwd=patched_tree).stdout.split()
  assert changed
  offenders = [f for f in changed if (patched_tree / f).exists() and
               "jax_patch" in (patched_tree / f).read_text()]
  assert not offenders


def _stock_callers(module, name):
  """Top-level functions of stock `module` that mention `name`."""
  tree = ast.parse(pathlib.Path(module.__file__).read_text())
  return [node.name for node in tree.body
          if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
          and node.name != name and any(
              isinstance(n, ast.Name) and n.id == name
              for n in ast.walk(node))]


def _stock_top_level_names(module):
  """Names that stock `module` defines or assigns at top level."""
  tree = ast.parse(pathlib.Path(module.__file__).read_text())
  names = set()
  for node in tree.body:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef,
                         ast.ClassDef)):
      names.add(node.name)
    elif isinstance(node, ast.Assign):
      names.update(t.id for t in node.targets if isinstance(t, ast.Name))
  return names


def test_install_covers_what_the_stack_changes():
  # Every upstream definition a PR replaces, every name it exports and every
  # config option it adds is what install() swaps into stock JAX.
  import jax_patch  # pylint: disable=g-import-not-at-top
  from jax_patch import monkeypatch  # pylint: disable=g-import-not-at-top
  with jax_patch.patched():
    targets = {(id(m), name) for m, name, _ in monkeypatch._targets()}
    new_files = set()
    for pr in stack.STACK:
      for dst, edits in pr.edits.items():
        if any(isinstance(e, stack.NewFile) for e in edits):
          new_files.add(dst)
        if dst in new_files:
          continue  # Reached through the names an Export adds.
        if not dst.endswith(".py"):
          continue  # API pages (ApiDoc): documentation only.
        module = importlib.import_module(dst[:-3].replace("/", "."))
        stock_names = _stock_top_level_names(module)
        for edit in edits:
          if (isinstance(edit, stack.Replace)
              and edit.name not in stock_names):
            # A definition an earlier PR of the stack inserted (a later one
            # completes it): install() reaches it through the stock
            # functions that call it, checked where they are replaced.
            continue
          if (isinstance(edit, stack.Replace) and edit.name.startswith("_")
              and (id(module), edit.name) not in targets):
            # A private helper: install() covers it when it covers every
            # stock function that calls it.
            callers = _stock_callers(module, edit.name)
            assert callers, (pr.slug, edit.name)
            seen = set()
            while callers:  # Private stock callers, through their callers.
              name = callers.pop()
              if (id(module), name) in targets or name in seen:
                continue
              seen.add(name)
              assert name.startswith("_"), (pr.slug, edit.name, name)
              more = _stock_callers(module, name)
              assert more, (pr.slug, edit.name, name)
              callers = [*callers, *more]
          elif isinstance(edit, stack.Replace):
            assert (id(module), edit.name) in targets, (pr.slug, edit.name)
          elif isinstance(edit, stack.Export):
            for name in edit.names:
              assert (id(module), name) in targets, (pr.slug, name)
          elif isinstance(edit, stack.Insert) and dst.endswith("config.py"):
            for name in edit.names:
              if not name.startswith("_"):  # Options, not their helpers.
                assert (id(module), name) in targets, (pr.slug, name)


def _module(text):
  return make_patches.Module(text, "x.py")


def test_generator_refuses_a_missing_anchor():
  mod = _module("def a():\n  pass\n")
  with pytest.raises(SystemExit, match="no top-level 'b'"):
    make_patches.insert(mod, ["def c():", "  pass"], before="b")
  with pytest.raises(SystemExit, match="no section"):
    make_patches.insert(mod, ["def c():", "  pass"], after="# Nope")


def test_generator_text_checks():
  old = "import os\n\n\ndef a():\n  pass\n"
  check = lambda new: make_patches.check_text("x.py", old, new)
  check(old + "\n\n# New section\n\ndef b():\n  pass\n")
  # An untitled block: the section comment is separated from its code.
  with pytest.raises(SystemExit, match="not directly followed"):
    check(old + "\n\n# New section\n\n\ndef b():\n  pass\n")
  # A title stuck before another section's title.
  with pytest.raises(SystemExit, match="not directly followed"):
    check(old + "\n\n# New section\n\n# Another\n\ndef b():\n  pass\n")
  with pytest.raises(SystemExit, match="3\\+ blank lines"):
    check(old + "\n\n\n\ndef b():\n  pass\n")
  with pytest.raises(SystemExit, match="mentions jax_patch"):
    check(old + "# jax_patch\n")
  with pytest.raises(SyntaxError):
    check(old + "def b(:\n")


def test_generator_places_imports_in_jax_order():
  text = ("from jax._src import core\nfrom jax._src import dtypes\n"
          "from jax._src.lax import lax\nfrom jax._src.lax import utils\n\n"
          "x = 1\n")
  out = make_patches.add_imports(text, "x.py", [
      ("jax._src.debugging", "debug_callback", None),
      ("jax._src.lax", "slicing", None)])
  lines = out.splitlines()
  assert lines.index("from jax._src.debugging import debug_callback") == 1
  assert lines.index("from jax._src.lax import slicing") == 4


def test_generator_without_drops_later_statements():
  lines = ["def f(x):", "  y = x", "  # Later.", "  y = later(y)",
           "  return y"]
  assert make_patches.without(lines, ("later",)) == [
      "def f(x):", "  y = x", "  return y"]
