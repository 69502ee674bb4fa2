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

"""Generates patches/ (the upstream pull request) from the jax_patch sources.

  python ci/make_patches.py            # rewrite patches/
  python ci/make_patches.py --check    # exit 1 if patches/ is stale
  python ci/make_patches.py --base DIR # merge into another JAX checkout

The package sources are the one source of truth. This script fetches JAX's
source at BASE_VERSION (ci/fetch_jax_source.sh, cached in .jax_src/), merges
the package's modules into the upstream files as SERIES below says, commits
one commit per entry with fixed identities and dates, and writes
`git format-patch --zero-commit --no-signature` output plus a quilt `series`
file. The output is byte-for-byte deterministic, so `--check` compares
exactly.

How a package module is merged into its upstream file (top-level statements,
found with `ast`, each with the comment lines directly above it):

* Imports: `from __future__`, imports of the target module itself and of
  modules merged into it are dropped; `jax_patch._src.X` becomes `jax._src.X`;
  the rest is added to upstream's import block (new names are appended to an
  existing `from M import ...` of the same module) unless already there.
  Function-local imports of jax_patch modules are rewritten or dropped too.
* A statement that defines a name upstream also defines (def, class,
  `name = ...`; @overload groups count as one) replaces upstream's in place.
  A statement identical to one upstream (a registration) is kept as is.
* Sections start at a standalone one-line comment (`# Sylvester solve`).
  In the section `# Top-level functions in alphabetical order.` new public
  wrappers go into upstream's alphabetical list. In other sections, new
  statements go next to their neighbours in the package file that upstream
  already has (before the next one, else after the previous one); with no
  such neighbour, at the end of the upstream section of the same title, or,
  for a new section, before the section named by `new_sections_before`
  (default: the end of the file).
* `delete` lists upstream names that the patch removes.
* Re-export modules (`name as name`): exported names upstream lacks are added
  to upstream's `from <module> import (...)` block, alphabetically.
* upstream_tests/*_test.py become new files tests/<same name>.

Which statements go to which patch is decided per entry by `select`:
`named(regex)` matches the names a statement defines (or exports),
`section(title)` the package section it is in, `rest()` anything that no
earlier entry took. A statement that no entry selects is an error.
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import difflib
import filecmp
import importlib.util
import io
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile
import tokenize
from collections.abc import Callable, Sequence

ROOT = pathlib.Path(__file__).resolve().parent.parent
PATCHES = ROOT / "patches"
BASE_VERSION = "0.10.2"  # The JAX release the series applies to.
ALPHABETICAL = "Top-level functions in alphabetical order."


# ---------------------------------------------------------------------------
# Selectors


@dataclasses.dataclass(frozen=True)
class Selector:
  test: Callable[[Chunk], bool]

  def __call__(self, chunk: Chunk) -> bool:
    return self.test(chunk)

  def __or__(self, other: Selector) -> Selector:
    return Selector(lambda c: self(c) or other(c))


def named(pattern: str) -> Selector:
  """Statements defining (or re-exporting) a name that matches `pattern`."""
  return Selector(lambda c: any(re.search(pattern, n) for n in c.names))


def section(pattern: str) -> Selector:
  """Statements in a package section `# <title>` that matches `pattern`."""
  return Selector(lambda c: c.section is not None and
                  re.search(pattern, c.section) is not None)


def from_module(path: str) -> Selector:
  """Statements from package module `path` (e.g. a staging module)."""
  return Selector(lambda c: c.origin == path)


def rest() -> Selector:
  """Whatever no earlier entry of the series selected."""
  return Selector(lambda c: True)


# ---------------------------------------------------------------------------
# The series. Edit here: which package file goes where, and in which patch.


@dataclasses.dataclass(frozen=True)
class Merge:
  """Merges package module `src` (plus `extra` modules) into upstream `dst`."""
  src: str
  dst: str
  select: Selector
  # Modules whose top-level code goes into section `extra_section` of `src`,
  # before that section's registration block (its trailing statements that
  # are not definitions), or, without `extra_section`, before src's own
  # code. They do not exist as modules in the patched tree; missing ones are
  # skipped.
  extra: tuple[str, ...] = ()
  extra_section: str | None = None
  new_sections_before: str | None = None
  delete: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class Exports:
  """Adds names re-exported by package module `src` to upstream `dst`."""
  src: str
  dst: str
  select: Selector


@dataclasses.dataclass(frozen=True)
class Tests:
  """Copies package test files matching `glob` to `dst_dir` upstream."""
  glob: str
  dst_dir: str = "tests"


@dataclasses.dataclass(frozen=True)
class Patch:
  subject: str
  body: str
  changes: tuple[Merge | Exports | Tests, ...]


LAX_SRC = "jax_patch/_src/lax/linalg.py"
LAX_DST = "jax/_src/lax/linalg.py"
LAX_EXTRA = ("jax_patch/_src/lax/sylvester_triangular.py",)
SCIPY_SRC = "jax_patch/_src/scipy/linalg.py"
SCIPY_DST = "jax/_src/scipy/linalg.py"
SCIPY_EXTRA = ()
SYLVESTER = named(r"(?i)sylvester") | section(r"(?i)sylvester")

SERIES = (
    Patch(
        "lax.linalg: add sylvester_solve_p",
        """\
Adds sylvester_solve(a, b, c), which solves op(A) Y + Y op(B) = C for
upper-triangular (Schur-form) or diagonal coefficients, and its primitive
sylvester_solve_p. Like triangular_solve_p it is nonlinear in its factors
and linear in its right-hand side: the JVP re-solves with the same factors,
the transpose re-binds the primitive with the transposed flag, and nothing
is ever refactored, so one Schur decomposition serves any number of
right-hand sides and derivatives. Singular pivots (|a_ii + b_jj| below a
relative tolerance) give zero components, a generalized-inverse solution;
optional Lorentzian broadening gives a smooth alternative.

The triangular solve is a blocked Bartels-Stewart in the manner of
LAPACK's trsyl3: wavefronts of small Kronecker leaf solves with GEMM
updates, so that most of its work is matrix multiplication.
""",
        (
            Merge(LAX_SRC, LAX_DST,
                  SYLVESTER | section("Sylvester solve")
                  | section("Primitive registration helper functions"),
                  extra=LAX_EXTRA, extra_section="Sylvester solve",
                  new_sections_before="Symmetric product"),
            Exports("jax_patch/lax/linalg.py", "jax/lax/linalg.py",
                    SYLVESTER),
        ),
    ),
    Patch(
        "lax.linalg: degenerate-aware eigh JVP",
        """\
The eigenvector JVP divided by eigenvalue differences and so returned inf
or NaN, or huge and wrong tangents, for (nearly) repeated eigenvalues.

It now solves the diagonal Sylvester equation diag(w) Y - Y diag(w) = -K
with sylvester_solve_p, which gives the degenerate pairs zero: the exact
derivative of the projectors onto the degenerate eigenspaces, and of every
loss that depends on the eigenvectors only through them (Kasim,
arXiv:2011.04366). Pairs that are equal up to rounding count as degenerate.
Reverse mode can optionally report, or turn into NaN, a cotangent that
depends on the arbitrary basis of a degenerate eigenspace.
""",
        (
            Merge(LAX_SRC, LAX_DST, rest(), extra=LAX_EXTRA,
                  extra_section="Sylvester solve",
                  new_sections_before="Symmetric product"),
            Exports("jax_patch/lax/linalg.py", "jax/lax/linalg.py", rest()),
        ),
    ),
    Patch(
        "scipy.linalg: Schur-reusing, differentiable solve_sylvester",
        """\
solve_sylvester now computes the Schur forms of A and B once and solves
with lax.linalg.sylvester_solve, so it is differentiable in A, B and C
(the derivatives reuse the factors) and works under vmap. A factor/solve
pair, in the style of lu_factor/lu_solve and cho_factor/cho_solve, lets
several right-hand sides share one factorization.

Removes _solve_sylvester_2d and _solve_sylvester_triangular_scan, which it
replaces.
""",
        (
            Merge(SCIPY_SRC, SCIPY_DST,
                  SYLVESTER | section("Sylvester equation")
                  | named(r"^(_H|_mT)$"),
                  extra=SCIPY_EXTRA,
                  delete=("_solve_sylvester_2d",
                          "_solve_sylvester_triangular_scan")),
            Exports("jax_patch/scipy/linalg.py", "jax/scipy/linalg.py",
                    SYLVESTER),
        ),
    ),
    Patch(
        "scipy.linalg: Hermitian matrix functions",
        """\
Adds funm_hermitian, expm_hermitian, logm_hermitian, sqrtm_hermitian and
powm_hermitian: f(A) = V f(diag(w)) V^H from one eigh. Their derivatives
do not go through eigh's JVP, which cannot be exact for them (at A = I,
d sum(expm(A)) needs f'): the Daleckii-Krein formula with divided
differences f[w_i, w_j], and its second-order analogue with f[w_i, w_k, w_j],
computed stably near and at repeated eigenvalues, make first and second
derivatives exact at any degeneracy, in forward and reverse mode.
""",
        (
            Merge(SCIPY_SRC, SCIPY_DST, rest(), extra=SCIPY_EXTRA),
            Exports("jax_patch/scipy/linalg.py", "jax/scipy/linalg.py",
                    rest()),
        ),
    ),
    Patch(
        "tests: sylvester_solve, eigh JVP and scipy.linalg additions",
        """\
New test files in JAX's style (jtu.JaxTestCase, sample_product,
check_grads in forward and reverse mode, comparisons against scipy).
""",
        (Tests("upstream_tests/*_test.py"),),
    ),
)

# Package modules that are not part of the upstream patch.
NOT_UPSTREAM = ("jax_patch/__init__.py", "jax_patch/monkeypatch.py",
                "jax_patch/_src/compat.py")

AUTHOR = "jax_patch contributors <jax-patch@example.com>"
DATE = "2026-01-01T00:00:00+0000"


# ---------------------------------------------------------------------------
# Parsing a module into top-level chunks


def _is_comment(line: str) -> bool:
  return line.lstrip().startswith("#")


def _defined_names(node: ast.stmt) -> list[str]:
  if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
    return [node.name]
  if isinstance(node, ast.Assign):
    return [t.id for t in node.targets if isinstance(t, ast.Name)]
  if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
    return [node.target.id]
  return []


@dataclasses.dataclass
class Chunk:
  """A top-level statement (or @overload group) with its comments above."""
  start: int      # first line (0-based) of the attached comments or code
  end: int        # one past the last line
  nodes: list[ast.stmt]
  names: list[str]
  section: str | None
  lines: list[str]  # the text, lines without newlines
  blank_before: int  # blank lines between this and the previous text
  origin: str = ""  # the package module it comes from

  @property
  def key(self) -> str:
    """Identity: the defined name, else the statement's AST."""
    if self.names:
      return "name:" + self.names[0]
    return "ast:" + "".join(ast.dump(n) for n in self.nodes)

  @property
  def is_import(self) -> bool:
    return all(isinstance(n, (ast.Import, ast.ImportFrom)) for n in self.nodes)

  @property
  def is_definition(self) -> bool:
    """A def, class or constant, as opposed to a registration statement.

    `foo_p = core.Primitive(...)`, `foo_p.def_impl(...)` and
    `ad.primitive_jvps[foo_p] = ...` belong to a registration block.
    """
    node = self.nodes[0]
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef,
                         ast.ClassDef)):
      return True
    return bool(self.names) and not self.names[0].endswith("_p")


@dataclasses.dataclass
class Header:
  """A standalone one-line comment that starts a section."""
  line: int
  title: str
  block: list[str]  # the header line and the blank or `#` lines after it


@dataclasses.dataclass
class Module:
  path: str
  lines: list[str]
  chunks: list[Chunk]
  headers: list[Header]

  @property
  def text(self) -> str:
    return "\n".join(self.lines) + "\n"


def parse(text: str, path: str = "<string>") -> Module:
  lines = text.splitlines()
  tree = ast.parse(text, path)
  chunks: list[Chunk] = []
  headers: list[Header] = []
  prev_end = 0
  current_section = None
  for node in tree.body:
    start = min([node.lineno] + [d.lineno for d in getattr(
        node, "decorator_list", [])]) - 1
    end = node.end_lineno
    names = _defined_names(node)
    if (chunks and names and chunks[-1].names == names and
        isinstance(node, ast.FunctionDef)):
      # @overload group: one chunk.
      c = chunks[-1]
      c.nodes.append(node)
      c.end = end
      c.lines = lines[c.start:end]
      prev_end = end
      continue
    attached = start
    while attached > prev_end and _is_comment(lines[attached - 1]):
      attached -= 1
    # Standalone comment groups between prev_end and attached: a one-line
    # group starts a section; other groups belong to the next statement.
    i = after_header = prev_end
    while i < attached:
      if _is_comment(lines[i]):
        j = i
        while j < attached and _is_comment(lines[j]):
          j += 1
        # `# Title`, alone or followed by `#` and a paragraph about it.
        if (prev_end > 0 and not lines[i - 1].strip() and
            (j - i == 1 or lines[i + 1].strip() == "#")):
          title = lines[i].lstrip("# ").rstrip()
          after_header = i + 1
          while after_header < attached and lines[after_header].strip() in (
              "", "#"):
            after_header += 1
          headers.append(Header(i, title, lines[i:after_header]))
          current_section = title
        i = j
      else:
        i += 1
    if prev_end > 0:
      first = after_header
      while first < attached and not lines[first].strip():
        first += 1
      attached = first
    blank = 0
    k = attached - 1
    while k >= 0 and not lines[k].strip():
      blank += 1
      k -= 1
    chunks.append(Chunk(attached, end, [node], names, current_section,
                        lines[attached:end], blank))
    prev_end = end
  return Module(path, lines, chunks, headers)


# ---------------------------------------------------------------------------
# Imports


def _module_of(node: ast.ImportFrom) -> str:
  return "." * node.level + (node.module or "")


def _upstream_module(name: str) -> str:
  if name == "jax_patch" or name.startswith("jax_patch."):
    return "jax" + name[len("jax_patch"):]
  return name


def _py_module(path: str) -> str:
  return path[:-3].replace("/", ".")


class ImportMapper:
  """Maps the package's module names to upstream ones for one target."""

  def __init__(self, target: str, upstream_root: pathlib.Path):
    self.target = _py_module(target)
    self.root = upstream_root
    # Package modules merged into upstream ones, e.g. sylvester_triangular.
    self.merged = {_py_module(m): _py_module(ch.dst)
                   for patch in SERIES for ch in patch.changes
                   if isinstance(ch, Merge) for m in (ch.src, *ch.extra)}

  def map(self, module: str) -> str | None:
    """Upstream module name, or None if it is the target itself."""
    up = self.merged.get(module) or _upstream_module(module)
    if up == self.target:
      return None
    if up != module:
      path = self.root / (up.replace(".", "/") + ".py")
      pkg = self.root / up.replace(".", "/") / "__init__.py"
      if not (path.exists() or pkg.exists()):
        raise SystemExit(
            f"error: {module} has no upstream counterpart ({up}); code that "
            "goes upstream must not import it.")
    return up


def _render_from(module: str, names: list[tuple[str, str | None]],
                 indent: str = "") -> list[str]:
  parts = [n if a is None or a == n else f"{n} as {a}" for n, a in names]
  one = f"{indent}from {module} import {', '.join(parts)}"
  if len(one) <= 80:
    return [one]
  out = [f"{indent}from {module} import ("]
  line = indent + "    "
  for p in parts:
    piece = p + ","
    if len(line) + len(piece) + 1 > 80 and line.strip():
      out.append(line.rstrip())
      line = indent + "    "
    line += piece + " "
  out.append(line.rstrip().rstrip(",") + ")")
  return out


def _import_sort_key(node: ast.stmt) -> str:
  if isinstance(node, ast.ImportFrom):
    if node.module == "jax._src" or node.module == "jax":
      return f"{node.module}.{node.names[0].name}"
    return node.module or ""
  return node.names[0].name


def _import_group(module: str) -> int:
  top = module.split(".")[0]
  if top == "jax":
    return 2
  if top in sys.stdlib_module_names:
    return 0
  return 1


def _used_imports(imports: list[ast.stmt], chunks: list[Chunk]
                  ) -> list[ast.stmt]:
  """The imports (or the names of them) that `chunks` use."""
  used = {n.id for c in chunks for node in c.nodes for n in ast.walk(node)
          if isinstance(n, ast.Name)}
  out = []
  for imp in imports:
    names = [a for a in imp.names
             if (a.asname or a.name.split(".")[0]) in used]
    if names:
      out.append(ast.ImportFrom(imp.module, names, 0)
                 if isinstance(imp, ast.ImportFrom) else ast.Import(names))
  return out


def merge_imports(mod: Module, imports: list[ast.stmt],
                  root: pathlib.Path) -> Module:
  """Adds `imports` (already mapped to upstream names) to mod's imports."""
  for imp in imports:
    mod = _add_import(mod, imp, root)
  return mod


def _is_module(name: str, root: pathlib.Path) -> bool:
  path = root / name.replace(".", "/")
  if name.split(".")[0] == "jax":
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()
  try:
    return importlib.util.find_spec(name) is not None
  except (ImportError, ValueError):
    return False


def _bound(mod: Module) -> dict[str, tuple[str, str]]:
  """Names bound by mod's top-level imports: name -> (module, imported)."""
  out = {}
  for c in mod.chunks:
    for n in c.nodes:
      if isinstance(n, ast.ImportFrom):
        for a in n.names:
          out[a.asname or a.name] = (_module_of(n), a.name)
      elif isinstance(n, ast.Import):
        for a in n.names:
          out[a.asname or a.name.split(".")[0]] = (a.name, "")
  return out


def _add_import(mod: Module, imp: ast.stmt, root: pathlib.Path) -> Module:
  bound = _bound(mod)
  if isinstance(imp, ast.ImportFrom):
    module = imp.module
    new = []
    for a in imp.names:
      name = a.asname or a.name
      if name in bound:
        if bound[name] != (module, a.name):
          raise SystemExit(
              f"error: {mod.path}: `from {module} import {a.name}` would "
              f"rebind {name}, which upstream imports from {bound[name][0]}")
        continue
      new.append((a.name, a.asname))
    if not new:
      return mod
    # Extend an existing `from module import ...`, unless it imports modules:
    # upstream writes those one per line.
    if any(_is_module(f"{module}.{n}", root) for n, _ in new):
      out = mod
      for n, a in new:
        out = _add_import(out, ast.ImportFrom(
            module, [ast.alias(n, a)], 0), _NO_EXTEND)
      return out
    for c in mod.chunks if root is not _NO_EXTEND else ():
      n = c.nodes[0]
      if (isinstance(n, ast.ImportFrom) and n.module == module and
          n.level == 0 and len(c.nodes) == 1 and
          not any(_is_comment(l) for l in c.lines)):
        names = [(a.name, a.asname) for a in n.names] + new
        return _splice(mod, c.start, c.end, _render_from(module, names))
    text = _render_from(module, new)
  else:
    text = []
    for a in imp.names:
      name = a.asname or a.name.split(".")[0]
      if name in bound:
        continue
      text.append(f"import {a.name}" + (f" as {a.asname}" if a.asname else ""))
    if not text:
      return mod
  # New statement: into the import group of its top-level package, before the
  # first import that sorts after it.
  key = _import_sort_key(imp)
  group = _import_group(key)
  imports = [c for c in mod.chunks if c.is_import and c.start < _body_start(
      mod)]
  same = [c for c in imports if _import_group(_import_sort_key(c.nodes[0]))
          == group]
  for c in same:
    if _import_sort_key(c.nodes[0]).lower() > key.lower():
      return _splice(mod, c.start, c.start, text)
  if same:
    return _splice(mod, same[-1].end, same[-1].end, text)
  last = imports[-1]
  return _splice(mod, last.end, last.end, [""] + text)


_NO_EXTEND = pathlib.Path("/nonexistent")


def _body_start(mod: Module) -> int:
  for c in mod.chunks:
    if not c.is_import and not (
        isinstance(c.nodes[0], ast.Expr) and
        isinstance(c.nodes[0].value, ast.Constant)):
      return c.start
  return len(mod.lines)


def _splice(mod: Module, a: int, b: int, new: list[str]) -> Module:
  return parse("\n".join(mod.lines[:a] + new + mod.lines[b:]) + "\n",
               mod.path)


# ---------------------------------------------------------------------------
# Package modules: their imports and chunks, ready to merge


@dataclasses.dataclass
class Source:
  chunks: list[Chunk]        # non-import chunks, in package order
  imports: list[ast.stmt]    # mapped to upstream module names
  blank_after: dict[int, int]  # id(chunk) -> blank lines after it
  headers: dict[str, list[str]]  # section title -> its header lines


def _rewrite_nested_imports(chunk: Chunk, mapper: ImportMapper) -> Chunk:
  lines = list(chunk.lines)
  edits = []
  for node in chunk.nodes:
    for sub in ast.walk(node):
      if isinstance(sub, ast.ImportFrom) and sub.level == 0 and (
          sub.module or "").startswith("jax_patch"):
        edits.append((sub, mapper.map(sub.module)))
      elif isinstance(sub, ast.Import) and any(
          a.name.startswith("jax_patch") for a in sub.names):
        raise SystemExit(f"error: {mapper.target}: `import jax_patch...` "
                         "inside a function is not supported; use "
                         "`from ... import ...`")
  for sub, up in sorted(edits, key=lambda e: -e[0].lineno):
    a = sub.lineno - 1 - chunk.start
    b = sub.end_lineno - chunk.start
    if up is None:
      del lines[a:b]
    else:
      lines[a] = lines[a].replace(sub.module, up, 1)
  if not edits:
    return chunk
  return dataclasses.replace(chunk, lines=lines)


def load_source(paths: Sequence[str], mapper: ImportMapper,
                extra_section: str | None) -> Source | None:
  """Reads the package module paths[0] and merges paths[1:] into it."""
  mods = []
  for p in paths:
    f = ROOT / p
    if f.exists():
      mods.append(parse(f.read_text(), p))
    elif p == paths[0]:
      return None
  imports, chunks, blank_after, headers = [], [], {}, {}
  for i, mod in enumerate(mods):
    for h in mod.headers:
      headers.setdefault(h.title, h.block)
    body = []
    for c in mod.chunks:
      node = c.nodes[0]
      if c.is_import:
        for n in c.nodes:
          if isinstance(n, ast.ImportFrom):
            if n.module == "__future__":
              continue
            if n.level:
              raise SystemExit(f"error: {mod.path}: relative imports are not "
                               "supported; import from jax_patch....")
            up = mapper.map(n.module)
            if up is not None:
              imports.append(ast.ImportFrom(up, n.names, 0))
          else:
            for a in n.names:
              up = mapper.map(a.name)
              if up is not None:
                imports.append(ast.Import([ast.alias(up, a.asname)]))
        continue
      if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
        continue  # module docstring
      if c.names == ["__all__"]:
        continue
      body.append(_rewrite_nested_imports(c, mapper))
    for c in body:
      c.origin = mod.path
    for a, b in zip(body, body[1:]):
      blank_after[id(a)] = b.blank_before
    if body:
      blank_after[id(body[-1])] = 2
    if i == 0:
      chunks = body
    elif extra_section is None:
      for c in body:
        c.section = None
      chunks[:0] = body
    else:
      for c in body:
        c.section = extra_section
      # Before the registration block of extra_section.
      idx = [k for k, c in enumerate(chunks) if c.section == extra_section]
      if not idx:
        raise SystemExit(f"error: {paths[0]} has no section "
                         f"'# {extra_section}' to receive {mod.path}")
      pos = idx[-1] + 1
      while pos > idx[0] and not chunks[pos - 1].is_definition:
        pos -= 1
      if body:
        blank_after[id(body[-1])] = chunks[pos].blank_before if pos < len(
            chunks) else 2
        if pos > 0:
          body[0].blank_before = blank_after.get(id(chunks[pos - 1]), 2)
      chunks[pos:pos] = body
  imports, renames = _canonical_aliases(imports)
  if renames:
    for c in chunks:
      _rename(c, renames)
  seen: dict[str, Chunk] = {}
  for c in chunks:
    if c.names and c.key in seen:
      raise SystemExit(
          f"error: {c.names[0]} is defined twice: in {seen[c.key].origin} "
          f"and in {c.origin}")
    seen[c.key] = c
  return Source(chunks, imports, blank_after, headers)


def _canonical_aliases(imports: list[ast.stmt]):
  """Drops duplicate bindings of one module object; returns the renames.

  E.g. `from jax._src.lax import linalg as lax_linalg` plus (mapped from
  jax_patch) `from jax._src.lax import linalg as _patch_lax_linalg`: the
  second name is renamed to the first.
  """
  first: dict[tuple[str, str], str] = {}
  renames: dict[str, str] = {}
  out = []
  for imp in imports:
    keep = []
    for a in imp.names:
      key = ((imp.module, a.name) if isinstance(imp, ast.ImportFrom)
             else (a.name, ""))
      name = a.asname or a.name.split(".")[0]
      if key in first and first[key] != name:
        renames[name] = first[key]
        continue
      first.setdefault(key, name)
      keep.append(a)
    if keep:
      out.append(ast.ImportFrom(imp.module, keep, 0)
                 if isinstance(imp, ast.ImportFrom) else ast.Import(keep))
  return out, renames


def _rename(chunk: Chunk, renames: dict[str, str]) -> Chunk:
  """Renames NAME tokens (not attributes) in a chunk's text."""
  text = "\n".join(chunk.lines) + "\n"
  toks = list(tokenize.generate_tokens(io.StringIO(text).readline))
  edits = []
  for k, t in enumerate(toks):
    if (t.type == tokenize.NAME and t.string in renames and
        not (k and toks[k - 1].string == ".")):
      edits.append((t.start, t.end, renames[t.string]))
  if not edits:
    return chunk
  lines = text.splitlines()
  for (r, c0), (_, c1), new in reversed(edits):
    lines[r - 1] = lines[r - 1][:c0] + new + lines[r - 1][c1:]
  chunk.lines = lines
  tree = ast.parse("\n".join(lines))
  chunk.nodes = list(tree.body)
  return chunk


# ---------------------------------------------------------------------------
# Merging


def _find(mod: Module, key: str) -> Chunk | None:
  for c in mod.chunks:
    if c.key == key:
      return c
  return None


def _section_end(mod: Module, title: str) -> Chunk | None:
  """The last chunk of upstream's section `title`."""
  last = None
  for c in mod.chunks:
    if c.section == title:
      last = c
  return last


def _header(mod: Module, title: str) -> Header | None:
  for h in mod.headers:
    if h.title == title:
      return h
  return None


def _text(chunks: list[Chunk], src: Source, last_gap: int | None
          ) -> list[str]:
  out = []
  for i, c in enumerate(chunks):
    out += c.lines
    gap = src.blank_after.get(id(c), 2)
    if i == len(chunks) - 1:
      if last_gap is None:
        break
      gap = last_gap
    out += [""] * gap
  return out


def _insert_before(mod: Module, anchor: Chunk, chunks, src) -> Module:
  return _splice(mod, anchor.start, anchor.start,
                 _text(chunks, src, src.blank_after.get(id(chunks[-1]), 2)))


def _insert_after(mod: Module, anchor: Chunk, chunks, src) -> Module:
  return _splice(mod, anchor.end, anchor.end,
                 [""] * chunks[0].blank_before + _text(chunks, src, None))


def _insert_alphabetically(mod: Module, chunk: Chunk, src: Source) -> Module:
  name = chunk.names[0] if chunk.names else ""
  public = [c for c in mod.chunks if c.section == ALPHABETICAL and c.names
            and not c.names[0].startswith("_")]
  if not public:
    raise SystemExit(f"error: {mod.path} has no section '# {ALPHABETICAL}'")
  for c in public:
    if c.names[0].lower() > name.lower():
      return _splice(mod, c.start, c.start,
                     chunk.lines + [""] * c.blank_before)
  return _insert_after(mod, public[-1], [chunk], src)


def merge_module(mod: Module, src: Source, chunks: list[Chunk],
                 merge: Merge, log) -> Module:
  """Merges `chunks` (a selection of src.chunks) into upstream module."""
  chosen = {id(c) for c in chunks}
  # 1. Replacements in place.
  for c in chunks:
    if not c.names:
      continue
    old = _find(mod, c.key)
    if old is not None:
      if old.lines != c.lines:
        log(f"  replace {c.names[0]}")
        mod = _splice(mod, old.start, old.end, c.lines)
  # 2. New chunks, section by section in package order.
  by_section: dict[str | None, list[Chunk]] = {}
  for c in src.chunks:
    by_section.setdefault(c.section, []).append(c)
  for title, cs in by_section.items():
    if title == ALPHABETICAL:
      for c in cs:
        if id(c) in chosen and _find(mod, c.key) is None:
          log(f"  add {c.names[0] if c.names else 'statement'} "
              "(alphabetical)")
          mod = _insert_alphabetically(mod, c, src)
      continue
    # Runs of new chunks between chunks that are present upstream.
    run: list[Chunk] = []
    prev_anchor = None
    for c in cs + [None]:
      present = c is not None and _find(mod, c.key) is not None
      if c is not None and not present:
        if id(c) in chosen:
          run.append(c)
        continue
      if run:
        names = ", ".join(n for r in run for n in r.names) or "statements"
        if c is not None:
          log(f"  add {names} before {c.names[0] if c.names else c.key[:40]}")
          mod = _insert_before(mod, _find(mod, c.key), run, src)
        elif prev_anchor is not None:
          log(f"  add {names} after "
              f"{(prev_anchor.names or [prev_anchor.key[:40]])[0]}")
          mod = _insert_after(mod, _find(mod, prev_anchor.key), run, src)
        else:
          mod = _insert_section(mod, title, run, src, merge, log, names)
        run = []
      prev_anchor = c
  # 3. Deletions.
  for name in merge.delete:
    old = _find(mod, "name:" + name)
    if old is None:
      log(f"  note: {name} (to delete) is not in {merge.dst}")
      continue
    log(f"  delete {name}")
    a = old.start
    while a > 0 and not mod.lines[a - 1].strip():
      a -= 1
    mod = _splice(mod, a, old.end, [])
  return mod


def _insert_section(mod, title, run, src, merge, log, names) -> Module:
  if title is not None and _header(mod, title) is not None:
    end = _section_end(mod, title)
    log(f"  add {names} at the end of section '{title}'")
    return _insert_after(mod, end, run, src)
  header = src.headers.get(title, [f"# {title}", ""]) if title else []
  before = merge.new_sections_before
  h = _header(mod, before) if before else None
  if h is None:
    if before:
      log(f"  note: section '{before}' not found; appending at the end")
    log(f"  add {'section ' + repr(title) if title else 'unsectioned'} "
        f"({names}) at the end of the file")
    last = mod.chunks[-1]
    run[0].blank_before = 2
    if header:
      return _splice(mod, last.end, last.end,
                     ["", "", ""] + header + _text(run, src, None))
    return _insert_after(mod, last, run, src)
  log(f"  add section '{title}' ({names}) before section '{before}'")
  assert title is not None
  gap = 0
  while h.line - gap - 1 >= 0 and not mod.lines[h.line - gap - 1].strip():
    gap += 1
  return _splice(mod, h.line, h.line, header + _text(run, src, gap))


def merge_exports(text: str, src_path: str, dst_module: str, select,
                  taken: set[str], log) -> tuple[str, list[str]]:
  """Adds selected `name as name` exports of src to dst's import block."""
  src = ast.parse((ROOT / src_path).read_text())
  exported = [a.asname or a.name for n in src.body
              if isinstance(n, ast.ImportFrom)
              for a in n.names]
  up = ast.parse(text)
  block = [n for n in up.body if isinstance(n, ast.ImportFrom) and
           n.module == dst_module]
  if not block:
    raise SystemExit(f"error: no `from {dst_module} import (...)` upstream")
  node = block[0]
  present = {a.asname or a.name for n in up.body
             if isinstance(n, ast.ImportFrom) for a in n.names}
  added = []
  lines = text.splitlines()
  for name in exported:
    fake = Chunk(0, 0, [], [name], None, [], 0)
    if name in present or name in taken or not select(fake):
      continue
    taken.add(name)
    entries = [(i, l) for i, l in enumerate(lines[:node.end_lineno])
               if i >= node.lineno and re.match(r"\s+\w+ as \w+,", l)]
    pos = entries[-1][0] + 1
    for i, l in entries:
      if l.split()[0].lower() > name.lower():
        pos = i
        break
    indent = re.match(r"\s*", entries[0][1]).group(0)
    lines.insert(pos, f"{indent}{name} as {name},")
    node.end_lineno += 1
    added.append(name)
  if added:
    log(f"  export {', '.join(added)}")
  return "\n".join(lines) + "\n", added


# ---------------------------------------------------------------------------
# Building the series


def _git(cwd, *args, **kw) -> str:
  env = dict(os.environ, GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull,
             GIT_AUTHOR_NAME=AUTHOR.split(" <")[0],
             GIT_AUTHOR_EMAIL=AUTHOR.split("<")[1].rstrip(">"),
             GIT_COMMITTER_NAME=AUTHOR.split(" <")[0],
             GIT_COMMITTER_EMAIL=AUTHOR.split("<")[1].rstrip(">"),
             GIT_AUTHOR_DATE=DATE, GIT_COMMITTER_DATE=DATE)
  return subprocess.run(["git", *args], cwd=cwd, env=env, check=True,
                        text=True, capture_output=True, **kw).stdout


def fetch_base(version: str) -> pathlib.Path:
  out = subprocess.run(
      ["bash", str(ROOT / "ci" / "fetch_jax_source.sh")],
      env=dict(os.environ, JAX_VERSION=version), check=True, text=True,
      stdout=subprocess.PIPE).stdout
  return pathlib.Path(out.strip().splitlines()[-1])


def _sources_missing(patch: Patch) -> list[str]:
  missing = []
  for ch in patch.changes:
    if isinstance(ch, (Merge, Exports)) and not (ROOT / ch.src).exists():
      missing.append(ch.src)
    if isinstance(ch, Tests) and not list(ROOT.glob(ch.glob)):
      missing.append(ch.glob)
  return missing


def build(base: pathlib.Path, work: pathlib.Path, out: pathlib.Path,
          log) -> list[str]:
  """Commits the series on a clone of base in `work`; format-patch to out."""
  _git(work.parent, "clone", "-q", "--no-hardlinks", str(base), str(work))
  _git(work, "checkout", "-q", "-b", "series")
  base_rev = _git(work, "rev-parse", "HEAD").strip()
  # Chunks (and exports) that earlier entries took, per source file.
  taken: dict[str, set[int]] = {}
  taken_exports: dict[str, set[str]] = {}
  sources: dict[tuple, Source | None] = {}
  selected_anywhere: dict[str, set[int]] = {}
  made = 0
  for patch in SERIES:
    missing = _sources_missing(patch)
    log(f"{patch.subject}")
    if missing and all(
        isinstance(ch, Tests) or ch.src in missing for ch in patch.changes):
      log(f"  skipped: sources do not exist yet: {', '.join(missing)}")
      continue
    for ch in patch.changes:
      if isinstance(ch, Tests):
        files = sorted(ROOT.glob(ch.glob))
        for f in files:
          dst = work / ch.dst_dir / f.name
          dst.parent.mkdir(parents=True, exist_ok=True)
          shutil.copyfile(f, dst)
          log(f"  add {ch.dst_dir}/{f.name}")
        continue
      if not (ROOT / ch.src).exists():
        log(f"  skipped {ch.src}: does not exist yet")
        continue
      dst = work / ch.dst
      if isinstance(ch, Exports):
        module = _py_module(ch.dst).replace("jax.", "jax._src.", 1)
        text, _ = merge_exports(dst.read_text(), ch.src, module, ch.select,
                                taken_exports.setdefault(ch.src, set()), log)
        dst.write_text(text)
        continue
      mapper = ImportMapper(ch.dst, work)
      k = (ch.src, ch.extra)
      if k not in sources:
        sources[k] = load_source((ch.src,) + ch.extra, mapper,
                                 ch.extra_section)
      src = sources[k]
      done = taken.setdefault(ch.src, set())
      chunks = [c for c in src.chunks if id(c) not in done and ch.select(c)]
      done.update(id(c) for c in chunks)
      selected_anywhere.setdefault(ch.src, set()).update(id(c) for c in chunks)
      mod = parse(dst.read_text(), ch.dst)
      mod = merge_module(mod, src, chunks, ch, log)
      if chunks:
        mod = merge_imports(mod, _used_imports(src.imports, chunks), work)
      dst.write_text(mod.text)
    if not _git(work, "status", "--porcelain"):
      log("  skipped: no changes")
      continue
    _git(work, "add", "-A")
    _git(work, "commit", "-q", "--no-gpg-sign", "-F", "-",
         input=f"{patch.subject}\n\n{patch.body}")
    made += 1
  for (path, _), src in sources.items():
    if src is None:
      continue
    left = [c for c in src.chunks if id(c) not in selected_anywhere[path]]
    if left:
      raise SystemExit(
          f"error: no series entry selects these statements of {path}: " +
          ", ".join(c.names[0] if c.names else c.key[:60] for c in left))
  _check_tree(work, base_rev)
  out.mkdir(parents=True, exist_ok=True)
  if not made:
    return []
  names = _git(work, "format-patch", "--zero-commit", "--no-signature",
               "--full-index", "--no-renames", "-o", str(out),
               f"{base_rev}..HEAD").split()
  names = [pathlib.Path(n).name for n in names]
  (out / "series").write_text("".join(n + "\n" for n in names))
  return names


def _check_tree(work: pathlib.Path, base_rev: str) -> None:
  changed = _git(work, "diff", "--name-only", base_rev, "HEAD").split()
  for rel in changed:
    f = work / rel
    if not f.exists():
      continue
    text = f.read_text()
    if "jax_patch" in text:
      lines = [i + 1 for i, l in enumerate(text.splitlines())
               if "jax_patch" in l]
      raise SystemExit(f"error: patched {rel} mentions jax_patch (lines "
                       f"{lines}); upstream code must stand alone")
    if rel.endswith(".py"):
      compile(text, rel, "exec")


def _unlisted_modules(log) -> None:
  listed = set(NOT_UPSTREAM)
  for patch in SERIES:
    for ch in patch.changes:
      if isinstance(ch, (Merge, Exports)):
        listed.add(ch.src)
        listed.update(getattr(ch, "extra", ()))
  for f in sorted((ROOT / "jax_patch").rglob("*.py")):
    rel = f.relative_to(ROOT).as_posix()
    if rel not in listed and f.name != "__init__.py":
      log(f"warning: {rel} is in no series entry (see SERIES in "
          "ci/make_patches.py)")


def main(argv=None) -> int:
  p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  p.add_argument("--check", action="store_true",
                 help="exit 1 if patches/ differs from what would be made")
  p.add_argument("--base", type=pathlib.Path,
                 help="a JAX source tree (git repository) to patch instead "
                 f"of the fetched jax {BASE_VERSION} sdist")
  p.add_argument("--out", type=pathlib.Path, default=PATCHES,
                 help="where to write the series (default: patches/)")
  p.add_argument("-q", "--quiet", action="store_true")
  p.add_argument("--base-version", action="store_true",
                 help="print the JAX version the series applies to and exit")
  args = p.parse_args(argv)
  if args.base_version:
    print(BASE_VERSION)
    return 0
  log = (lambda *_: None) if args.quiet else (
      lambda m: print(m, file=sys.stderr))
  base = args.base or fetch_base(BASE_VERSION)
  _unlisted_modules(log)
  with tempfile.TemporaryDirectory() as tmp:
    tmp = pathlib.Path(tmp)
    out = tmp / "patches"
    names = build(base, tmp / "work", out, log)
    if args.check:
      stale = _compare(out, args.out)
      if stale:
        print("\n".join(stale[:200]))
        print(f"error: {_shown(args.out)} is stale; run "
              "`python ci/make_patches.py` and commit the result.",
              file=sys.stderr)
        return 1
      print(f"{_shown(args.out)} is up to date "
            f"({len(names)} patches).")
      return 0
    args.out.mkdir(parents=True, exist_ok=True)
    for old in args.out.iterdir():
      if old.name == "series" or old.suffix == ".patch":
        old.unlink()
    for f in sorted(out.iterdir()):
      shutil.copyfile(f, args.out / f.name)
    print(f"wrote {len(names)} patches to {args.out}: " + " ".join(names))
  return 0


def _shown(path: pathlib.Path) -> str:
  try:
    return str(path.resolve().relative_to(ROOT))
  except ValueError:
    return str(path)


def _compare(new: pathlib.Path, old: pathlib.Path) -> list[str]:
  """Differences between two patch folders, as diff lines; [] if equal."""
  def files(d):
    return sorted(f.name for f in d.iterdir() if f.name == "series" or
                  f.suffix == ".patch") if d.exists() else []
  out = []
  a, b = files(old), files(new)
  for name in sorted(set(a) | set(b)):
    fa, fb = old / name, new / name
    if name not in b:
      out.append(f"extra file: {name}")
    elif name not in a:
      out.append(f"missing file: {name}")
    elif not filecmp.cmp(fa, fb, shallow=False):
      out += difflib.unified_diff(
          fa.read_text().splitlines(), fb.read_text().splitlines(),
          f"patches/{name}", f"generated/{name}", lineterm="")
  return out


if __name__ == "__main__":
  sys.exit(main())
