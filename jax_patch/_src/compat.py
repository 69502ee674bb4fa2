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

"""Every difference between the supported JAX versions, and nowhere else.

jax_patch targets the jax-v0.10.2 source (the upstream patch) and runs, as a
monkeypatch, on JAX 0.10.0 and newer. The code under jax_patch/_src only uses
internals that are the same in all of them (core.Primitive, ad.primitive_jvps
and primitive_transposes, batching.primitive_batchers, mlir.lower_fun,
debugging.debug_callback); what differs is collected here.

Support is decided by the internals install() replaces, not by a version
list: the JVP rules registered for eigh_p and svd_p must be
jax._src.lax.linalg's own ``_eigh_jvp_rule`` and ``_svd_jvp_rule``, with the
keyword parameters (the primitives' parameters) that jax_patch's rules take,
and the functions install() replaces must take no argument that jax_patch's
do not. A JAX newer than NEWEST_TESTED that passes these checks is patched
with an UntestedJaxWarning; one that fails them is refused with a
RuntimeError, whatever its version. docs/versions.md lists the test runs.
"""

from __future__ import annotations

import importlib
import inspect
import re
import warnings

import jax

OLDEST_SUPPORTED = (0, 10, 0)
NEWEST_TESTED = (0, 12, 1)


class UntestedJaxWarning(UserWarning):
  """install() patched a JAX release newer than any jax_patch was tested on."""


def jax_version() -> tuple[int, ...]:
  """(major, minor, patch) of jax.__version__; "0.11.2rc1" is (0, 11, 2)."""
  parts = []
  for p in jax.__version__.split(".")[:3]:
    digits = re.match(r"\d*", p).group()
    if not digits:
      break
    parts.append(int(digits))
  return tuple(parts)


def _dotted(version: tuple[int, ...]) -> str:
  return ".".join(map(str, version))


def jvp_registry():
  """The dict in which JAX looks up JVP rules, and the rules install() swaps.

  The second item maps the name of each replaced rule in
  jax._src.lax.linalg (and jax_patch._src.lax.linalg) to its primitive.
  """
  from jax._src.interpreters import ad
  from jax._src.lax import linalg as lax_linalg
  return ad.primitive_jvps, {"_eigh_jvp_rule": lax_linalg.eigh_p,
                             "_svd_jvp_rule": lax_linalg.svd_p,
                             "eig_jvp_rule": lax_linalg.eig_p}


# The functions install() replaces in JAX's modules, by module and name, with
# the module of jax_patch that holds the replacement.
_REPLACED_FUNCTIONS = (
    ("jax._src.scipy.linalg", ("eigh", "solve_sylvester"),
     "jax_patch.scipy.linalg"),
    ("jax.scipy.linalg", ("eigh", "solve_sylvester"), "jax_patch.scipy.linalg"),
)
_MODULES = ("jax._src.config", "jax._src.lax.linalg", "jax.lax.linalg",
            "jax._src.scipy.linalg", "jax.scipy.linalg")


def _keywords(fun) -> tuple[set[str], set[str]]:
  """(the keyword parameters fun accepts, those it requires)."""
  params = inspect.signature(fun).parameters.values()
  kinds = (inspect.Parameter.KEYWORD_ONLY,
           inspect.Parameter.POSITIONAL_OR_KEYWORD)
  names = {p.name for p in params if p.kind in kinds}
  required = {p.name for p in params
              if p.kind in kinds and p.default is inspect.Parameter.empty}
  return names, required


def _accepts_all_of(stock, ours) -> str | None:
  """Why ours cannot be called as stock is, or None."""
  stock_names, stock_required = _keywords(stock)
  our_names, our_required = _keywords(ours)
  if any(p.kind is inspect.Parameter.VAR_KEYWORD
         for p in inspect.signature(stock).parameters.values()):
    return "takes **kwargs"
  unknown = stock_names - our_names
  if unknown:
    return f"has parameters {sorted(unknown)} that jax_patch's does not take"
  missing = our_required - stock_required
  if missing:
    return f"lacks parameters {sorted(missing)} that jax_patch's needs"
  return None


def _rule_params(rule) -> str:
  names, _ = _keywords(rule)
  return ", ".join(sorted(names - {"primals", "tangents"}))


def internals_problems() -> tuple[list[str], list[str]]:
  """(what differs from what install() expects, what was checked).

  Empty problems: install() can replace the internals without changing
  anything but the rules it means to change.
  """
  problems, checked = [], []
  for name in _MODULES:
    try:
      importlib.import_module(name)
    except ImportError as e:
      problems.append(f"module {name} does not import ({e})")
  if problems:
    return problems, checked
  try:
    registry, rules = jvp_registry()
  except (ImportError, AttributeError) as e:
    return [f"no eigh_p, svd_p, eig_p or ad.primitive_jvps ({e})"], checked
  try:
    from jax_patch._src.lax import linalg as ours_lax
  except (ImportError, AttributeError) as e:
    return [f"jax_patch's rules do not import ({type(e).__name__}: {e})"], (
        checked)
  lax_linalg = importlib.import_module("jax._src.lax.linalg")
  for name, prim in rules.items():
    what = f"ad.primitive_jvps[{prim.name}_p]"
    stock = getattr(lax_linalg, name, None)
    if stock is None:
      problems.append(f"jax._src.lax.linalg has no {name}")
      continue
    if registry.get(prim) is not stock:
      problems.append(f"{what} is {registry.get(prim)!r}, not "
                      f"jax._src.lax.linalg.{name}")
      continue
    why = _accepts_all_of(stock, getattr(ours_lax, name))
    if why:
      problems.append(f"jax._src.lax.linalg.{name} {why}")
      continue
    checked.append(
        f"{what} is jax._src.lax.linalg.{name}({_rule_params(stock)})")
  if not hasattr(importlib.import_module("jax._src.config"), "enum_state"):
    problems.append("jax._src.config has no enum_state")
  for module_name, names, ours_name in _REPLACED_FUNCTIONS:
    module = importlib.import_module(module_name)
    try:
      ours = importlib.import_module(ours_name)
    except (ImportError, AttributeError) as e:
      problems.append(f"{ours_name} does not import ({type(e).__name__}: "
                      f"{e})")
      continue
    for name in names:
      stock = getattr(module, name, None)
      if stock is None:
        problems.append(f"{module_name} has no {name}")
        continue
      why = _accepts_all_of(stock, getattr(ours, name))
      if why:
        problems.append(f"{module_name}.{name} {why}")
  if not problems:
    checked.append("the parameters of jax.scipy.linalg.eigh and "
                   "solve_sylvester")
  return problems, checked


def check_supported() -> None:
  """Raises RuntimeError unless install() can patch the installed JAX.

  Warns (UntestedJaxWarning) when it can, but the release is newer than any
  jax_patch was tested on. install() calls it, under its lock, only when it
  is about to patch (not when already installed).
  """
  version = jax_version()
  tested = f"{_dotted(OLDEST_SUPPORTED)} to {_dotted(NEWEST_TESTED)}"
  if version < OLDEST_SUPPORTED:
    raise RuntimeError(
        f"jax_patch needs JAX {_dotted(OLDEST_SUPPORTED)} or newer (tested "
        f"{tested}); found jax {jax.__version__}. Upgrade JAX, e.g. "
        "pip install -U 'jax>=0.10' 'jaxlib>=0.10'.")
  problems, checked = internals_problems()
  if problems:
    raise RuntimeError(
        f"jax_patch cannot patch jax {jax.__version__}: the internals that "
        "install() replaces differ from what its rules expect: "
        + "; ".join(problems) + ". Patching them could install a wrong "
        f"rule, so it refuses. Use a JAX release it was tested on ({tested}, "
        f"e.g. pip install 'jax=={_dotted(NEWEST_TESTED)}' "
        f"'jaxlib=={_dotted(NEWEST_TESTED)}') or a jax_patch release that "
        f"supports jax {jax.__version__}.")
  if version > NEWEST_TESTED:
    warnings.warn(
        f"jax_patch was tested on JAX {tested}; jax {jax.__version__} is "
        "newer. The internals install() replaces are as it expects, so it "
        "patches them (checked: " + "; ".join(checked) + "). Run jax_patch's "
        "tests on this JAX to be sure (JAX_ENABLE_X64=1 python -m pytest).",
        UntestedJaxWarning, stacklevel=4)


def clear_caches() -> None:
  jax.clear_caches()
