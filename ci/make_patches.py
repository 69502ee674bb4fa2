#!/usr/bin/env python3
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

"""Generates patches/, the stack of upstream pull requests, from the package.

  python ci/make_patches.py                 # rewrite patches/
  python ci/make_patches.py --check --lint  # exit 1 if stale or not clean
  python ci/make_patches.py --base DIR --out DIR    # another JAX checkout
  ci/py313.sh --jax 0.12.1 -- python ci/make_patches.py --base DIR --out DIR
                              # a base that needs Python >= 3.12 (jax 0.11+)
  python ci/make_patches.py --tree DIR --upto K     # tree with PRs 1..K

STACK (ci/stack.py) says what each PR takes from the package (top-level
statements with the comments directly above them; a `*_p` brings its
registrations) and where it goes upstream: before or after a top-level
name or `# Section`, or in place of a name. Nothing is placed by
heuristics: a missing anchor, or a package statement no PR takes, is an
error. The output must compile, never mention jax_patch, add no run of 3+
blank lines, and title every new `# Section` directly above its code;
`--lint` runs ruff with the base tree's configuration. Each PR is one
commit (fixed identities and dates) written by `git format-patch` to
patches/NN-name/ with ci/pr/NN-name.md; the output is deterministic.
"""

from __future__ import annotations

import argparse
import ast
import builtins
import importlib.util
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "ci"))
import stack  # noqa: E402  pylint: disable=g-import-not-at-top

PATCHES = ROOT / "patches"
AUTHOR = ("jax_patch contributors", "jax-patch@example.com")
DATE = "2026-01-01T00:00:00+0000"


# Package modules as statements


class Module:
  """A Python file: its lines and top-level statements.

  A statement's span starts at the comment lines directly above it (no blank
  line between) and its decorators. A standalone comment block is a header:
  `headers[title]` is its (start, end) line span.
  """

  def __init__(self, text: str, path: str):
    self.path = path
    self.lines = text.splitlines()
    self.tree = ast.parse(text, path)
    self.spans, self.headers = [], {}
    prev = 0
    for node in self.tree.body:
      start = min([node.lineno] + [d.lineno for d in getattr(
          node, "decorator_list", [])]) - 1
      while start > prev and self.lines[start - 1].startswith("#"):
        start -= 1
      i = prev
      while i < start:  # Standalone comment blocks between statements.
        if self.lines[i].startswith("#"):
          j = i
          while j < start and self.lines[j].startswith("#"):
            j += 1
          title = self.lines[i].lstrip("#").strip()
          self.headers.setdefault(title, (i, j))
          i = j
        else:
          i += 1
      self.spans.append((node, start, node.end_lineno))
      prev = node.end_lineno

  def names_of(self, node: ast.stmt) -> list[str]:
    """Names a statement defines; a registration counts for its *_p."""
    if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
      return [node.name]
    if isinstance(node, (ast.Assign, ast.AnnAssign)):
      targets = node.targets if isinstance(node, ast.Assign) else [node.target]
      names = [t.id for t in targets if isinstance(t, ast.Name)]
      if names:
        return names
    if isinstance(node, (ast.Import, ast.ImportFrom)):
      return []
    prims = [n.id for n in ast.walk(node) if isinstance(n, ast.Name)
             and n.id.endswith("_p")]
    return prims[:1]

  def find(self, name: str) -> list[tuple[ast.stmt, int, int]]:
    return [s for s in self.spans if name in self.names_of(s[0])]

  def text(self, start: int, end: int) -> list[str]:
    return self.lines[start:end]

  def gap_above(self, start: int) -> int:
    """Blank lines above line `start`, looking through a header block."""
    i = start
    while i > 0 and not self.lines[i - 1].strip():
      i -= 1
    gap = start - i
    header = next((s for s, e in self.headers.values() if e == i), None)
    if header is not None:
      return self.gap_above(header)
    return gap

  def imports(self) -> dict[str, tuple[str | None, str, str | None]]:
    """Bound name -> (module of `from M import`, name, asname)."""
    out = {}
    for node in self.tree.body:
      if isinstance(node, ast.ImportFrom) and node.module != "__future__":
        for a in node.names:
          out[a.asname or a.name] = (node.module, a.name, a.asname)
      elif isinstance(node, ast.Import):
        for a in node.names:
          out[a.asname or a.name.split(".")[0]] = (None, a.name, a.asname)
    return out

  def defined(self) -> set[str]:
    names = set(self.imports())
    for node, _, _ in self.spans:
      if isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.Assign,
                           ast.AnnAssign)):
        names.update(self.names_of(node))
    return names


_PACKAGE: dict[str, Module] = {}


def package(path: str) -> Module:
  if path not in _PACKAGE:
    _PACKAGE[path] = Module((ROOT / path).read_text(), path)
  return _PACKAGE[path]


def upstream_module(path: str) -> str:
  """jax_patch/_src/lax/linalg.py -> jax._src.lax.linalg (its upstream)."""
  return stack.MODULES[path][:-len(".py")].replace("/", ".")


def to_upstream(module: str) -> str:
  for src in stack.MODULES:
    if module == src[:-len(".py")].replace("/", "."):
      return upstream_module(src)
  return re.sub(r"^jax_patch\._src\b", "jax._src", module)


def take(src: str, names: tuple[str, ...], taken: set) -> list[str]:
  """The package text of `names`, in package order, spaced as there."""
  mod = package(src)
  spans = [s for s in mod.spans if set(mod.names_of(s[0])) & set(names)]
  for name in names:
    if not mod.find(name):
      raise SystemExit(f"error: {src} defines no {name!r}")
  out = []
  for node, start, end in spans:
    if out:  # As in the package: adjacent constants stay adjacent.
      out += [""] * min(2, mod.gap_above(start))
    out += [re.sub(r"\bjax_patch\._src\b", "jax._src", l)
            for l in mod.text(start, end)]
    taken.add((src, start))
  return out


def without(lines: list[str], words: tuple[str, ...]) -> list[str]:
  """Lines of defs minus body statements that mention any of `words`."""
  if not words:
    return lines
  drop = set()
  for node in ast.parse("\n".join(lines)).body:
    if not isinstance(node, ast.FunctionDef):
      continue
    for i, stmt in enumerate(node.body):
      a, b = stmt.lineno - 1, stmt.end_lineno
      if any(w in "\n".join(lines[a:b]) for w in words):
        # The comments above a statement go with it, except those above
        # the first, which describe the def.
        while i and a > 0 and lines[a - 1].strip().startswith("#"):
          a -= 1
        drop.update(range(a, b))
  return [l for i, l in enumerate(lines) if i not in drop]


def substitute(lines: list[str], pairs: tuple[tuple[str, str], ...]
               ) -> list[str]:
  """Lines with each (old, new) text replaced; every old must occur."""
  text = "\n".join(lines)
  for old, new in pairs:
    if old not in text:
      raise SystemExit(f"error: substitute: {old!r} not found")
    text = text.replace(old, new)
  return text.split("\n")


# Editing upstream files


def anchor_span(mod: Module, anchor: str, where: str) -> tuple[int, int]:
  if anchor.startswith("# "):
    if anchor[2:] not in mod.headers:
      raise SystemExit(f"error: {mod.path} has no section {anchor!r}")
    return mod.headers[anchor[2:]]
  spans = mod.find(anchor)
  if not spans:
    raise SystemExit(f"error: {mod.path} has no top-level {anchor!r}")
  return (spans[0][1], spans[0][2]) if where == "before" else (
      spans[-1][1], spans[-1][2])


def insert(mod: Module, block: list[str], before=None, after=None) -> str:
  lines = mod.lines
  if before:
    start, _ = anchor_span(mod, before, "before")
    top = start
    while top > 0 and not lines[top - 1].strip():
      top -= 1
    gap = max(1, start - top)
    new = lines[:start] + block + [""] * gap + lines[start:]
  else:
    _, end = anchor_span(mod, after, "after")
    bottom = end
    while bottom < len(lines) and not lines[bottom].strip():
      bottom += 1
    # After the file's last statement, two blank lines (none follow it).
    gap = max(1, bottom - end) if bottom < len(lines) else 2
    new = lines[:end] + [""] * gap + block + lines[end:]
  return "\n".join(new) + "\n"


def replace(mod: Module, name: str, block: list[str]) -> str:
  spans = mod.find(name)
  if not spans:
    raise SystemExit(f"error: {mod.path} has no top-level {name!r}")
  start, end = spans[0][1], spans[-1][2]
  return "\n".join(mod.lines[:start] + block + mod.lines[end:]) + "\n"


def delete(mod: Module, name: str) -> str:
  spans = mod.find(name)
  if not spans:
    raise SystemExit(f"error: {mod.path} has no top-level {name!r}")
  start, end = spans[0][1], spans[-1][2]
  while start > 0 and not mod.lines[start - 1].strip():
    start -= 1
  return "\n".join(mod.lines[:start] + mod.lines[end:]) + "\n"


def doc_note(mod: Module, name: str, note: str) -> str:
  """Adds the paragraph `note` to the docstring of the top-level def `name`,
  before its "Args:" section (after the paragraphs a DocNote added)."""
  spans = mod.find(name)
  if not spans:
    raise SystemExit(f"error: {mod.path} has no top-level {name!r}")
  start, end = spans[0][1], spans[-1][2]
  args = next((i for i in range(start, end)
               if mod.lines[i].strip() == "Args:"), None)
  if args is None:
    raise SystemExit(f"error: {mod.path}: {name!r} has no Args: section")
  indent = mod.lines[args][:len(mod.lines[args]) - len(
      mod.lines[args].lstrip())]
  block = [indent + l if l else "" for l in note.strip("\n").split("\n")]
  return "\n".join(mod.lines[:args] + block + [""] + mod.lines[args:]) + "\n"


def _import_key(node: ast.stmt) -> str:
  if isinstance(node, ast.Import):
    return node.names[0].name
  return f"{node.module}.{node.names[0].name}"


def add_imports(text: str, path: str, needed: list[tuple],
                order=lambda key: key) -> str:
  """Adds imports, each where JAX's (alphabetical) order puts it.

  A name joins an existing `from M import a, b` of names (not of modules);
  otherwise it gets a statement of its own, before the first import whose
  dotted name sorts after its own under `order`.
  """
  for module, name, asname in needed:
    mod = Module(text, path)
    if (asname or name) in mod.defined():
      continue
    lines = mod.lines
    entry = name + (f" as {asname}" if asname else "")
    of_names = lambda n: len(n.names) > 1 or not n.names[0].name.islower() or (
        n.names[0].name.startswith("_"))
    same = [n for n in mod.tree.body if isinstance(n, ast.ImportFrom) and
            module and n.module == module and of_names(n)]
    if same:
      node = same[0]
      names = [a.name + (f" as {a.asname}" if a.asname else "")
               for a in node.names]
      # In order, where the names are (as isort orders them: by ASCII).
      at = len(names)
      if names == sorted(names):
        at = next((i for i, n in enumerate(names) if n > entry), at)
      names.insert(at, entry)
      stmt = f"from {module} import {', '.join(names)}"
      if len(stmt) > 80:
        stmt = f"from {module} import (\n    {', '.join(names)})"
      lines[node.lineno - 1:node.end_lineno] = stmt.split("\n")
    else:
      stmt = (f"from {module} import {entry}" if module else f"import {entry}")
      key = _import_key(ast.parse(stmt).body[0])
      group = [n for n in mod.tree.body if isinstance(
          n, (ast.Import, ast.ImportFrom)) and
               re.split(r"[. ]", _import_key(n))[0] ==
               re.split(r"[. ]", key)[0]]
      if not group:  # The first import of its package: by overall order.
        group = [n for n in mod.tree.body if isinstance(
            n, (ast.Import, ast.ImportFrom)) and
                 getattr(n, "module", None) != "__future__"]
      if not group:
        raise SystemExit(f"error: {path} has no imports to join")
      later = [n for n in group if order(_import_key(n)) > order(key)]
      at = later[0].lineno - 1 if later else group[-1].end_lineno
      lines.insert(at, stmt)
    text = "\n".join(lines) + "\n"
  return text


def needed_imports(src: str, blocks: list[list[str]]) -> list[tuple]:
  """Imports of package module src that the blocks' free names need."""
  table = package(src).imports()
  used = set()
  for block in blocks:
    for node in ast.walk(ast.parse("\n".join(block))):
      if isinstance(node, ast.Name):
        used.add(node.id)
  out = []
  for name in sorted(used - set(dir(builtins))):
    if name in table:
      module, orig, asname = table[name]
      module = module and to_upstream(module)
      if module != upstream_module(src):
        out.append((module, orig, asname))
  return out


def export(text: str, module: str, names: tuple[str, ...]) -> str:
  """Adds `name as name,` lines to `from module import (...)`."""
  tree = ast.parse(text)
  node = next((n for n in tree.body if isinstance(n, ast.ImportFrom) and
               n.module == module), None)
  lines = text.splitlines()
  if node is None:  # A new block after the last one.
    last = [n for n in tree.body if isinstance(n, ast.ImportFrom)][-1]
    block = [f"from {module} import ("] + [
        f"  {n} as {n}," for n in sorted(names, key=str.lower)] + [")"]
    lines[last.end_lineno:last.end_lineno] = [""] + block
    return "\n".join(lines) + "\n"
  for name in names:
    entries = [i for i in range(node.lineno, node.end_lineno)
               if re.match(r"\s+\w+ as \w+,", lines[i])]
    pos = next((i for i in entries
                if lines[i].split()[0].lower() > name.lower()),
               entries[-1] + 1)
    indent = re.match(r"\s*", lines[entries[0]]).group(0)
    lines.insert(pos, f"{indent}{name} as {name},")
    node.end_lineno += 1
  return "\n".join(lines) + "\n"


BUILD_TARGET = """
jax_multiplatform_test(
    name = "{name}",
    srcs = ["{name}.py"],
    deps = py_deps([
{deps}    ]),
)
"""


def fold_test(tree: pathlib.Path, name: str, into: str) -> None:
  """Appends test file `name`'s helpers and classes to tests/`into`.

  Definitions `into` already has (by name) are kept as they are; imports
  it lacks are added to its import block; the license header, the flag
  parsing and the `__main__` block of `name` are dropped.
  """
  src = (ROOT / "upstream_tests" / name).read_text()
  path = tree / "tests" / into
  text = path.read_text()
  target = Module(text, f"tests/{into}")
  have = target.defined()
  mod = Module(src, name)
  blocks, imports = [], []
  for node, start, end in mod.spans:
    if isinstance(node, (ast.Import, ast.ImportFrom)):
      imports.append(node)
      continue
    if isinstance(node, ast.If) or (
        isinstance(node, ast.Expr) and (
            isinstance(node.value, ast.Constant) or
            "parse_flags_with_absl" in ast.unparse(node))):
      continue
    names = mod.names_of(node)
    if names and all(n in have for n in names):
      continue
    if isinstance(node, ast.Assign) and not names:
      continue
    blocks.append(mod.text(start, end))
  for node in imports:
    for alias in node.names:
      if (alias.asname or alias.name.split(".")[0]) in have:
        continue
      module = node.module if isinstance(node, ast.ImportFrom) else None
      if module == "__future__":
        continue
      text = add_imports(text, f"tests/{into}",
                         [(module, alias.name, alias.asname)],
                         # JAX's tests import `from jax` before `from jax._src`.
                         order=lambda key: key.replace("._", ".~"))
  main = text.index('\nif __name__ == "__main__":')
  body = "\n\n\n".join("\n".join(b).strip("\n") for b in blocks)
  text = text[:main].rstrip("\n") + "\n\n\n" + body + "\n\n" + text[main:]
  path.write_text(text)


def add_changelog(tree: pathlib.Path, text: str) -> bool:
  """Adds a PR's `## CHANGELOG` items to the base's CHANGELOG.md under
  Unreleased; False where there is nothing to do.

  Items (`- ...`) go into the list named by the `* New features`, `* Changes`
  or `* Breaking changes` line above them (default: Changes), at its top, or
  into a new list at the end of Unreleased.
  """
  path = tree / "CHANGELOG.md"
  if not path.exists() or "\n## CHANGELOG\n" not in text:
    return False
  section = text.split("\n## CHANGELOG\n", 1)[1].split("\n## ", 1)[0]
  lists = {}
  kind = "Changes"
  for line in section.strip().splitlines():
    if line.startswith("* "):
      kind = line[2:].strip()
    elif line.startswith("- "):
      lists.setdefault(kind, []).append("  * " + line[2:])
    elif line.strip():
      lists.setdefault(kind, []).append("    " + line.strip())
  log = path.read_text()
  for kind, items in lists.items():
    start = log.index("\n## Unreleased\n") + len("\n## Unreleased\n")
    end = log.index("\n## ", start)
    unreleased = log[start:end]
    head = f"\n* {kind}\n"
    if head in unreleased:
      at = start + unreleased.index(head) + len(head)
      new = "\n".join(items) + "\n"
    else:
      at = end
      new = head + "\n".join(items) + "\n"
    log = log[:at] + new + log[at:]
  path.write_text(log)
  return True


def add_test(tree: pathlib.Path, name: str) -> None:
  src = ROOT / "upstream_tests" / name
  (tree / "tests").mkdir(exist_ok=True)
  shutil.copyfile(src, tree / "tests" / name)
  build = tree / "tests" / "BUILD"
  if not build.exists():  # The sdist has no tests/BUILD.
    return
  text = src.read_text()
  deps = [d for d, m in (("absl/testing", "absl"), ("hypothesis",
                                                   "hypothesis"),
                         ("numpy", "numpy"), ("scipy", "scipy"))
          if re.search(rf"^(import|from) {m}\b", text, re.M)]
  target = BUILD_TARGET.format(name=name[:-3], deps="".join(
      f'        "{d}",\n' for d in deps))
  mod = build.read_text()
  at = mod.index('name = "linalg_test"')
  at = mod.index("\n)\n", at) + 3
  build.write_text(mod[:at] + target + mod[at:])


# Checks


def check_text(path: str, old: str, new: str) -> None:
  if "jax_patch" in new:
    raise SystemExit(f"error: patched {path} mentions jax_patch")
  compile(new, path, "exec")
  runs = lambda t: len(re.findall(r"\n\n\n\n", t))
  if runs(new) > runs(old):
    raise SystemExit(f"error: patched {path} has a run of 3+ blank lines")
  old_headers = set(Module(old, path).headers) if old else set()
  mod = Module(new, path)
  for title, (start, end) in mod.headers.items():
    if title in old_headers or start == 0:
      continue
    nxt = end
    while nxt < len(mod.lines) and not mod.lines[nxt].strip():
      nxt += 1
    if (nxt - end > 1 or nxt == len(mod.lines) or
        any(s == nxt for s, _ in mod.headers.values())):
      raise SystemExit(f"error: section '# {title}' in {path} is not "
                       "directly followed by the code it titles")


def ruff(tree: pathlib.Path, files: list[str]) -> None:
  files = [f for f in files if f.endswith(".py") and (tree / f).exists()]
  exe = [sys.executable, "-m", "ruff"]
  if importlib.util.find_spec("ruff") is None and shutil.which("ruff"):
    exe = [shutil.which("ruff")]
  out = subprocess.run(
      exe + ["check", "--no-cache", "--config", str(tree / "pyproject.toml"),
             *files], cwd=tree, text=True, capture_output=True)
  if out.returncode:
    raise SystemExit(f"error: ruff (JAX's configuration) on the patched "
                     f"tree:\n{out.stdout}{out.stderr}")


# Building the stack


def git(cwd, *args, stdin=None) -> str:
  name, email = AUTHOR
  env = dict(os.environ, GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull,
             GIT_AUTHOR_NAME=name, GIT_AUTHOR_EMAIL=email,
             GIT_COMMITTER_NAME=name, GIT_COMMITTER_EMAIL=email,
             GIT_AUTHOR_DATE=DATE, GIT_COMMITTER_DATE=DATE)
  return subprocess.run(["git", *args], cwd=cwd, env=env, check=True,
                        text=True, capture_output=True, input=stdin).stdout


def description(pr: stack.PR) -> tuple[str, str, str]:
  """(subject, commit body, PR description) from ci/pr/<slug>.md."""
  text = (ROOT / "ci" / "pr" / f"{pr.slug}.md").read_text()
  first, rest = text.split("\n", 1)
  body = rest.strip().split("\n## ")[0].strip()
  return first.lstrip("# ").strip(), body, text


def apply_pr(tree: pathlib.Path, pr: stack.PR, taken: set) -> list[str]:
  """Applies one PR's edits to the tree; returns the files it changed."""
  changed = []
  for dst, edits in pr.edits.items():
    path = tree / dst
    if dst.endswith(".rst"):  # API pages: only where the base has them.
      if path.exists():
        text = path.read_text()
        for edit in edits:
          text = api_doc(text, dst, edit.heading, edit.names)
        path.write_text(text)
        changed.append(dst)
      continue
    old = path.read_text() if path.exists() else ""
    text = old
    for edit in edits:
      if isinstance(edit, stack.NewFile):
        text = new_file(edit.src, edit.names, taken)
        continue
      mod = Module(text, dst)
      if isinstance(edit, stack.Export):
        text = export(text, edit.module, edit.names)
      elif isinstance(edit, stack.Delete):
        text = delete(mod, edit.name)
      elif isinstance(edit, stack.DocNote):
        text = doc_note(mod, edit.name, edit.note)
      elif isinstance(edit, stack.Replace):
        block = substitute(without(take(edit.src, (edit.name,), taken),
                                   edit.without), edit.substitute)
        text = replace(mod, edit.name, block)
        text = add_imports(text, dst, needed_imports(edit.src, [block]))
      else:
        block = take(edit.src, edit.names, taken)
        if edit.section:
          start, end = package(edit.src).headers[edit.section]
          taken.add((edit.src, "# " + edit.section))
          block = package(edit.src).text(start, end) + [""] + block
        block = substitute(without(block, edit.without), edit.substitute)
        text = insert(mod, block, edit.before, edit.after)
        text = add_imports(text, dst, needed_imports(edit.src, [block]))
    check_text(dst, old, text)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    changed.append(dst)
  fold = dict(pr.fold)
  for name in pr.tests:
    if name in fold and (tree / "tests" / fold[name]).exists():
      fold_test(tree, name, fold[name])
      changed.append(f"tests/{fold[name]}")
    else:
      add_test(tree, name)
      changed.append(f"tests/{name}")
  if add_changelog(tree, description(pr)[2]):
    changed.append("CHANGELOG.md")
  return changed


def new_file(src: str, names: tuple[str, ...] | None, taken: set) -> str:
  """The text of package module src as a new upstream file (see NewFile)."""
  mod = package(src)
  if names is None:
    keep = {s for _, s, _ in mod.spans}
  else:
    for name in names:
      if not mod.find(name):
        raise SystemExit(f"error: {src} defines no {name!r}")
    keep = {s for n, s, _ in mod.spans if set(mod.names_of(n)) & set(names)}
  imports = [(n, s, e) for n, s, e in mod.spans
             if isinstance(n, (ast.Import, ast.ImportFrom))]
  first = min([s for _, s, _ in imports] or [len(mod.lines)])
  code = [l for n, s, e in mod.spans if s in keep
          for l in mod.text(s, e)]
  used = {node.id for node in ast.walk(ast.parse("\n".join(code)))
          if isinstance(node, ast.Name)}
  drop = set()  # Lines of unused imports, and of statements not kept.
  lines = list(mod.lines)
  for node, start, end in mod.spans:
    if isinstance(node, ast.ImportFrom) and node.module == "__future__":
      continue
    if (node, start, end) in imports:
      kept = [a for a in node.names
              if names is None or (a.asname or a.name.split(".")[0]) in used]
      if kept and len(kept) < len(node.names):  # Only the names used.
        entries = ", ".join(a.name + (f" as {a.asname}" if a.asname else "")
                            for a in kept)
        stmt = f"from {node.module} import {entries}"
        if len(stmt) > 80:
          stmt = f"from {node.module} import (\n    {entries})"
        lines[start:end] = [stmt] + [None] * (end - start - 1)
      if kept:
        continue
    elif start in keep or start < first:
      continue
    drop.update(range(start, end))
  # A header goes with the statements below it, up to the next header.
  headers = sorted(mod.headers.items(), key=lambda h: h[1][0])
  for i, (title, (start, end)) in enumerate(headers):
    stop = headers[i + 1][1][0] if i + 1 < len(headers) else len(mod.lines)
    if start >= first and not any(start < s < stop for s in keep):
      drop.update(range(start, end))
    elif start >= first or names is None:
      taken.add((src, "# " + title))
  last = max([e for _, s, e in imports if s not in drop] + [0])
  head = [l for i, l in enumerate(lines[:last]) if i not in drop
          and l is not None]
  head = [l for i, l in enumerate(head)  # One blank line between groups.
          if l.strip() or (i + 1 < len(head) and head[i + 1].strip())]
  lines = head + [l for i, l in enumerate(lines) if i >= last
                  and i not in drop and l is not None]
  text = re.sub(r"\n{4,}", "\n\n\n", "\n".join(lines).strip("\n")) + "\n"
  taken.update((src, s) for s in keep)
  return re.sub(r"\bjax_patch\._src\b", "jax._src", text)


def api_doc(text: str, path: str, heading: str, names: tuple[str, ...]
            ) -> str:
  """Adds names to the first autosummary list below `heading`, in order."""
  lines = text.split("\n")
  if heading not in lines:
    raise SystemExit(f"error: {path} has no heading {heading!r}")
  i = lines.index(heading)
  while not lines[i].startswith(".. autosummary::"):
    i += 1
  while lines[i].strip():  # Its options.
    i += 1
  start = end = i + 1
  while end < len(lines) and lines[end].startswith(" ") and lines[end].strip():
    end += 1
  entries = lines[start:end]
  indent = entries[0][:len(entries[0]) - len(entries[0].lstrip())]
  for name in names:
    at = next((k for k, e in enumerate(entries)
               if e.strip().lower() > name.lower()), len(entries))
    entries.insert(at, indent + name)
  return "\n".join(lines[:start] + entries + lines[end:])


def check_all_taken(taken: set) -> None:
  for src in stack.MODULES:
    if not (ROOT / src).exists():
      continue
    mod = package(src)
    left = [mod.names_of(n) or [ast.dump(n)[:40]] for n, s, _ in mod.spans
            if (src, s) not in taken and not any(
                map(stack.package_only, mod.names_of(n)))
            and not isinstance(
                n, (ast.Import, ast.ImportFrom)) and not (
                    isinstance(n, ast.Expr) and isinstance(n.value,
                                                           ast.Constant))]
    preamble = max([n.end_lineno for n in mod.tree.body if isinstance(
        n, (ast.Import, ast.ImportFrom))] + [0])
    left += [f"# {t}" for t, (start, _) in mod.headers.items()
             if (src, "# " + t) not in taken and start >= preamble
             and t not in stack.PACKAGE_ONLY_HEADERS]
    if left:
      raise SystemExit(f"error: no PR takes these parts of {src}: {left}")


def build(base: pathlib.Path, tree: pathlib.Path, out: pathlib.Path | None,
          upto: int | None = None, lint: bool = False) -> list[str]:
  git(tree.parent, "clone", "-q", "--no-hardlinks", str(base.resolve()),
      str(tree))
  taken, written, changed = set(), [], set()
  prs = stack.STACK[:upto] if upto else stack.STACK
  for pr in prs:
    changed.update(apply_pr(tree, pr, taken))
    subject, body, text = description(pr)
    for name, into in pr.fold:
      if not (tree / "tests" / name).exists():  # Folded into `into`.
        body, text = (t.replace(f"tests/{name}", f"tests/{into}")
                      for t in (body, text))
    git(tree, "add", "-A")
    git(tree, "commit", "-q", "--no-gpg-sign", "-F", "-",
        stdin=f"{subject}\n\n{body}\n")
    if out is not None:
      folder = out / pr.slug
      folder.mkdir(parents=True)
      (folder / "PR.md").write_text(text)
      names = git(tree, "format-patch", "--zero-commit", "--no-signature",
                  "--full-index", "--no-renames", "-o", str(folder),
                  "-1", "HEAD").split()
      written += [f"{pr.slug}/{pathlib.Path(n).name}" for n in names]
  if upto is None:
    check_all_taken(taken)
  if lint:
    ruff(tree, sorted(changed))
  if out is not None:
    (out / "series").write_text("".join(n + "\n" for n in written))
  return written


def fetch_base(version: str) -> pathlib.Path:
  out = subprocess.run(
      ["bash", str(ROOT / "ci" / "fetch_jax_source.sh")],
      env=dict(os.environ, JAX_VERSION=version), check=True, text=True,
      stdout=subprocess.PIPE).stdout
  return pathlib.Path(out.strip().splitlines()[-1])


def base_python(base: pathlib.Path) -> tuple[int, ...] | None:
  """The oldest Python the base's code is written for (setup.py's
  python_requires or pyproject's requires-python), or None if neither says."""
  for name, key in (("setup.py", "python_requires"),
                    ("pyproject.toml", "requires-python")):
    path = base / name
    m = path.is_file() and re.search(
        rf"{key}\s*=\s*['\"]>=\s*([0-9.]+)['\"]", path.read_text())
    if m:
      return tuple(int(p) for p in m.group(1).split("."))
  return None


def check_python(base: pathlib.Path) -> None:
  """Exits with the command to use if this Python is older than the base's.

  The generator compiles the patched files, and a base may use syntax this
  Python does not have (jax 0.11+: `class ValueHolder[ValueType]`, 3.12).
  """
  need = base_python(base)
  if need and sys.version_info[:len(need)] < need:
    have = ".".join(map(str, sys.version_info[:2]))
    raise SystemExit(
        f"error: the JAX base {base} needs Python >= "
        f"{'.'.join(map(str, need))}, this is Python {have}; run the "
        "generator under Python 3.13, e.g. (as root) ci/py313.sh --jax "
        "0.12.1 -- python ci/make_patches.py --base ... --out ...")


def compare(new: pathlib.Path, old: pathlib.Path) -> list[str]:
  """The differences of old from new, as `diff -ruN` prints them."""
  return subprocess.run(["diff", "-ruN", str(old), str(new)], text=True,
                        capture_output=True).stdout.splitlines()


def main(argv=None) -> int:
  p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  for flag in ("--check", "--lint", "--base-version", "-q"):
    p.add_argument(flag, action="store_true")
  p.add_argument("--base", type=pathlib.Path)  # Default: the jax sdist.
  p.add_argument("--out", type=pathlib.Path, default=PATCHES)
  p.add_argument("--tree", type=pathlib.Path)
  p.add_argument("--upto", type=int)
  args = p.parse_args(argv)
  if args.base_version:
    return print(stack.BASE_VERSION) or 0
  base = args.base or fetch_base(stack.BASE_VERSION)
  check_python(base)
  if args.tree:
    shutil.rmtree(args.tree, ignore_errors=True)
    args.tree.parent.mkdir(parents=True, exist_ok=True)
    build(base, args.tree, None, args.upto, args.lint)
    return print(args.tree) or 0
  with tempfile.TemporaryDirectory() as tmp:
    out = pathlib.Path(tmp) / "patches"
    out.mkdir()
    written = build(base, pathlib.Path(tmp) / "tree", out, None, args.lint)
    if args.check:
      stale = compare(out, args.out)
      if stale:
        print("\n".join(stale[:200]))
        print(f"error: {args.out} is stale; run `python ci/make_patches.py` "
              "and commit the result.", file=sys.stderr)
        return 1
      if not args.q:
        print(f"{args.out} is up to date ({len(written)} patches).")
      return 0
    shutil.rmtree(args.out, ignore_errors=True)
    shutil.copytree(out, args.out)
    print(f"wrote {len(written)} patches to {args.out}")
  return 0


if __name__ == "__main__":
  sys.exit(main())
